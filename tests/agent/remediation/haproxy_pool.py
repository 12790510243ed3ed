"""A real haproxy (Debian 2.6) in front of a pool of tiny loopback HTTP servers that count the
requests they receive, with its Runtime API on `stats socket ipv4@127.0.0.1:PORT level admin`."""

from __future__ import annotations

import http.client
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.binaries import require_binary
from tests.support.net import free_port, wait_for_port

_CFG = """global
    stats socket ipv4@127.0.0.1:{admin} level admin
    stats timeout 5s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_main
    bind 127.0.0.1:{port}
    default_backend be_app
backend be_app
    balance roundrobin
{servers}
"""


@dataclass
class Pool:
    port: int  # haproxy's frontend
    admin_port: int  # the Runtime API
    hits: Counter[str]  # requests each server received

    def get(self, n: int) -> None:
        for _ in range(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/", headers={"Connection": "close"})
                conn.getresponse().read()
            finally:
                conn.close()


def _server(name: str, hits: Counter[str], lock: threading.Lock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with lock:
                hits[name] += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@contextmanager
def haproxy_pool(workdir: Path, names: tuple[str, ...] = ("s1", "s2", "s3")) -> Iterator[Pool]:
    haproxy = require_binary("haproxy")
    hits: Counter[str] = Counter()
    lock = threading.Lock()
    apps = {name: _server(name, hits, lock) for name in names}
    for app in apps.values():
        threading.Thread(target=app.serve_forever, daemon=True).start()
    port, admin = free_port(), free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(_CFG.format(admin=admin, port=port, servers="".join(
        f"    server {n} 127.0.0.1:{a.server_address[1]} weight 10 maxconn 50\n" for n, a in apps.items())))
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        wait_for_port(admin)
        yield Pool(port=port, admin_port=admin, hits=hits)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for app in apps.values():
            app.shutdown()
            app.server_close()

