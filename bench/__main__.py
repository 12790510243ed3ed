"""`make bench`: run every benchmark (or the ones named) and print their figures.

Each module in this package exposes `main(argv: list[str]) -> None` and prints its figures;
`python -m bench ingestion agent` runs only those.
"""

from __future__ import annotations

import importlib
import sys

BENCHES = ["ingestion", "agent", "notifier"]


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or BENCHES
    failed = []
    for name in names:
        print(f"\n=== bench: {name} ===", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"skipped: {exc}")
            continue
        try:
            module.main([a for a in argv if a.startswith("-")])
        except Exception as exc:  # one failing benchmark does not hide the others' figures
            print(f"FAILED: {exc!r}")
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
