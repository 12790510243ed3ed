"""A real haproxy (Debian 2.6) with one frontend per logging option, a loopback backend answering
200/404/500 (and /slow past `timeout server`), a backend with no server (<NOSRV>) and one whose server
refuses connections; its log lines are read from a UDP socket on loopback."""

from __future__ import annotations

import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.binaries import require_binary
from tests.support.net import free_port

CUSTOM = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r"
OPTIONS = {"httplog": "option httplog", "httpslog": "option httpslog", "clf": "option httplog clf",
           "custom": f'log-format "{CUSTOM.replace(chr(34), chr(92) + chr(34))}"'}

_CFG = """global
    log 127.0.0.1:{syslog} local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 300ms
{frontends}
frontend fe_tcp
    mode tcp
    option tcplog
    bind 127.0.0.1:{tcp_port}
    default_backend be_tcp
backend be_tcp
    mode tcp
    server app1 127.0.0.1:{app}
backend be_app
    server app1 127.0.0.1:{app}
backend be_none
backend be_refused
    server dead1 127.0.0.1:{dead}
"""
_FRONTEND = """frontend fe_{name}
    bind 127.0.0.1:{port}
    {option}
    use_backend be_none if {{ path_beg /none }}
    use_backend be_refused if {{ path_beg /refused }}
    default_backend be_app
"""


class _App(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/slow"):
            time.sleep(0.8)
        code = {"/missing": 404, "/boom": 500}.get(self.path, 200)
        body = b"x" * (10 if code == 200 else 3)
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # haproxy closing /slow after `timeout server` resets the connection: expected


PATHS = ("/", "/missing", "/boom", "/none", "/refused", "/slow")


def _get(port: int, path: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
    finally:
        conn.close()


def _abort(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /abort HTTP/1.1\r\nHost: x\r\n")  # never finished: the client goes away


@contextmanager
def haproxy_lines(workdir: Path) -> Iterator[dict[str, list[str]]]:
    """Run traffic through every frontend; yields {option: [raw syslog datagrams]}."""
    haproxy = require_binary("haproxy")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    app = _Server(("127.0.0.1", 0), _App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    ports = {name: free_port() for name in OPTIONS}
    tcp_port = free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(_CFG.format(
        syslog=sock.getsockname()[1], tcp_port=tcp_port, app=app.server_address[1], dead=free_port(),
        frontends="".join(_FRONTEND.format(name=n, port=ports[n], option=o) for n, o in OPTIONS.items())))
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(tcp_port)
        for name, port in ports.items():
            for path in PATHS:
                _get(port, path)
            _abort(port)
        _get(tcp_port, "/")
        lines = _drain(sock, expected=len(ports) * (len(PATHS) + 1) + 1)
        out: dict[str, list[str]] = {name: [] for name in [*OPTIONS, "tcplog"]}
        for line in lines:
            for name in OPTIONS:
                if f"fe_{name}" in line:
                    out[name].append(line)
            if "fe_tcp" in line:
                out["tcplog"].append(line)
        yield out
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        app.shutdown()
        app.server_close()
        sock.close()


def _wait_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"haproxy did not listen on {port}")


def _drain(sock: socket.socket, *, expected: int) -> list[str]:
    """Datagrams until `expected` request lines came (or 10 s without a new one); state messages too."""
    lines: list[str] = []
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 10 and sum(" fe_" in x for x in lines) < expected:
        try:
            data = sock.recv(65535)
        except TimeoutError:
            continue
        lines.append(data.decode("utf-8", "replace").rstrip("\n"))
        idle_since = time.monotonic()
    return lines
