"""Steady HTTP load for the demo (standard library only): `--rps` requests per second spread over
`--paths`, each with a timeout, from a small pool of threads. Stops on SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DEFAULT_PATHS = ["/api/orders", "/api/users", "/api/cart", "/web/", "/web/static/app.js"]


def hit(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own URL
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, TimeoutError, OSError):
        return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--rps", type=float, default=20.0)
    parser.add_argument("--paths", nargs="*", default=DEFAULT_PATHS)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = until stopped")
    parser.add_argument("--heartbeat", type=Path, default=None, help="file touched every second")
    args = parser.parse_args(argv)
    if args.rps <= 0:
        parser.error("--rps must be > 0")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    interval = 1.0 / args.rps
    started = time.monotonic()
    sent, next_beat = 0, 0.0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        try:
            while not stop.is_set():
                now = time.monotonic()
                if args.duration and now - started >= args.duration:
                    break
                if args.heartbeat and now >= next_beat:
                    args.heartbeat.touch()
                    next_beat = now + 1.0
                path = random.choice(args.paths)  # noqa: S311
                pool.submit(hit, args.url.rstrip("/") + path, args.timeout)
                sent += 1
                stop.wait(max(0.0, started + sent * interval - time.monotonic()))
        except KeyboardInterrupt:
            pass
    print(f"loadgen: sent {sent} requests", flush=True)


if __name__ == "__main__":
    main()
