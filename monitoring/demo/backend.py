"""A tiny HTTP backend whose latency and error rate change at run time (standard library only).

Traffic port: every path answers after `latency_ms` (± `jitter_ms`), with `error_status` for a
share `error_rate` of requests. The state is kept per route, the first path segment (`/api/x` →
`api`); route `*` is the default for routes without their own state.

Admin port (never behind HAProxy):
  GET  /state                                    → {"*": {...}, "api": {...}}
  POST /state?route=api&latency_ms=1500&error_rate=0.3&error_status=503&jitter_ms=50
  POST /reset                                    → back to healthy
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import threading
import time
from dataclasses import asdict, dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class RouteState:
    latency_ms: float = 20.0
    jitter_ms: float = 10.0
    error_rate: float = 0.0
    error_status: int = 503


class State:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, RouteState] = {"*": RouteState()}

    def get(self, route: str) -> RouteState:
        with self._lock:
            return self._routes.get(route) or self._routes["*"]

    def update(self, route: str, changes: dict[str, str]) -> RouteState:
        fields: dict[str, float | int] = {}
        for key, raw in changes.items():
            if key == "error_status":
                status = int(raw)
                if not 400 <= status <= 599:
                    raise ValueError("error_status must be 400..599")
                fields[key] = status
            elif key in ("latency_ms", "jitter_ms"):
                value = float(raw)
                if not 0 <= value <= MAX_LATENCY_MS:
                    raise ValueError(f"{key} must be 0..{MAX_LATENCY_MS}")
                fields[key] = value
            elif key == "error_rate":
                value = float(raw)
                if not 0 <= value <= 1:
                    raise ValueError("error_rate must be 0..1")
                fields[key] = value
            else:
                raise ValueError(f"unknown setting {key!r}")
        with self._lock:
            current = self._routes.get(route) or self._routes["*"]
            self._routes[route] = replace(current, **fields)  # type: ignore[arg-type]
            return self._routes[route]

    def reset(self) -> None:
        with self._lock:
            self._routes = {"*": RouteState()}

    def snapshot(self) -> dict[str, dict[str, float | int]]:
        with self._lock:
            return {name: asdict(state) for name, state in self._routes.items()}


def route_of(path: str) -> str:
    segment = urlsplit(path).path.strip("/").split("/", 1)[0]
    return segment or "*"


def traffic_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            if self.path == "/healthz":
                self._send(200, b"ok\n")
                return
            current = state.get(route_of(self.path))
            delay = max(0.0, random.gauss(current.latency_ms, current.jitter_ms / 2)) / 1000  # noqa: S311
            time.sleep(delay)
            if random.random() < current.error_rate:  # noqa: S311 - fault injection, not crypto
                self._send(current.error_status, b"injected failure\n")
            else:
                self._send(200, b"ok\n")

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer
        do_HEAD = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

    return Handler


def admin_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            if urlsplit(self.path).path == "/state":
                self._json(200, state.snapshot())
            else:
                self._json(404, {"error": "GET /state, POST /state?route=..., POST /reset"})

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path == "/reset":
                state.reset()
                self._json(200, state.snapshot())
                return
            if parts.path != "/state":
                self._json(404, {"error": "POST /state?route=... or POST /reset"})
                return
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            route = query.pop("route", "*")
            try:
                updated = state.update(route, query)
            except ValueError as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(200, {route: asdict(updated)})

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--admin-host", default=None, help="defaults to --host")
    parser.add_argument("--admin-port", type=int, default=9001)
    args = parser.parse_args(argv)
    state = State()
    traffic = ThreadingHTTPServer((args.host, args.port), traffic_handler(state))
    admin = ThreadingHTTPServer((args.admin_host or args.host, args.admin_port), admin_handler(state))
    traffic.daemon_threads = admin.daemon_threads = True
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=traffic.shutdown).start())
    print(f"demo backend on {args.host}:{args.port}, admin on {args.admin_host or args.host}:{args.admin_port}",
          flush=True)
    try:
        traffic.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        admin.shutdown()
        traffic.server_close()
        admin.server_close()


if __name__ == "__main__":
    main()
