"""`make bench`: run every benchmark (or the ones named) and print their figures.

Each module in this package exposes `main(argv: list[str]) -> None` and prints its figures;
`python -m bench ingestion agent` runs only those; every other argument (`--lines 100000`) is
passed on to each benchmark run.
"""

from __future__ import annotations

import importlib
import sys

BENCHES = ["ingestion", "agent", "alerts", "incidents", "notifier", "load", "cluster"]
# Run only when named (`make bench BENCH_ARGS=page`): the real chain with production timers, ~11-16 min.
ON_REQUEST = ["page"]


def main(argv: list[str]) -> int:
    names = [a for a in argv if a in BENCHES + ON_REQUEST] or BENCHES
    passed = [a for a in argv if a not in BENCHES + ON_REQUEST]
    failed = []
    for name in names:
        print(f"\n=== bench: {name} ===", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"skipped: {exc}")
            continue
        try:
            module.main(passed)
        except (Exception, SystemExit) as exc:  # one failing benchmark does not hide the others' figures
            print(f"FAILED: {exc!r}")
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
