"""Write every provisioned dashboard as a TypeScript object literal typed with Grafana's own
`Dashboard` (@grafana/schema), so that `tsc` checks every field name and type (an object literal
gets excess-property checks; an imported .json file would not).

The one allowance: Grafana's UI writes `definition` (the query as text) on query variables, and the
schema omits it. `--broken` also writes one dashboard with a misspelled field, which tsc must refuse.
Usage: python3 to_typescript.py DASHBOARD_DIR OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = """import type { Dashboard, VariableModel } from '@grafana/schema';

// Grafana's UI writes `definition` on query variables; the schema omits it.
type UiVariable = VariableModel & { definition?: string };
type Provisioned = Omit<Dashboard, 'templating'> & { templating: { list: UiVariable[] } };
"""


def module(name: str, board: dict[str, object]) -> str:
    return HEADER + f"\nexport const {name}: Provisioned = {json.dumps(board, indent=1)};\n"


def main(source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    boards = sorted(source.glob("*.json"))
    assert boards, f"no dashboards in {source}"
    for path in boards:
        name = "board_" + path.stem.replace("-", "_")
        (out / f"{path.stem}.ts").write_text(module(name, json.loads(path.read_text())))
    broken = json.loads(boards[0].read_text())
    broken["refrsh"] = broken["refresh"]
    (out.parent / "broken").mkdir(exist_ok=True)
    (out.parent / "broken" / "broken.ts").write_text(module("broken", broken))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
