"""grafana-foundation-sdk round trip: every provisioned dashboard read by the SDK's `Dashboard`
model and written back must keep every field and value it had (the SDK may only add defaults).
Usage: python round_trip.py DASHBOARD.json..."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

# Grafana's UI writes `definition` (the query as text) on query variables; the schema and the SDK's
# model omit it, so the SDK drops it. Nothing else may be lost.
ALLOWED = re.compile(r"^\$\.templating\.list\[\d+\]\.definition: lost$")


def losses(before: Any, after: Any, path: str = "$") -> list[str]:
    """What `after` lost or changed of `before` (keys `after` adds are defaults, not losses)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key, value in before.items():
            found += [f"{path}.{key}: lost"] if key not in after else losses(value, after[key], f"{path}.{key}")
        return found
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} items -> {len(after)}"]
        return [loss for i, pair in enumerate(zip(before, after, strict=True)) for loss in losses(*pair, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def main(paths: list[str]) -> int:
    register_default_plugins()
    failed = 0
    for name in paths:
        board = json.loads(Path(name).read_text())
        back = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
        problems = [loss for loss in losses(board, back) if not ALLOWED.match(loss)]
        assert losses({"a": 1, "b": [1]}, {"a": 2}) == ["$.a: 1 -> 2", "$.b: lost"]  # the check can fail
        print(f"round trip {Path(name).name}: " + ("ok" if not problems else "; ".join(problems[:20])))
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
