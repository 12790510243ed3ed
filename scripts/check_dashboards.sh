#!/usr/bin/env bash
# Grafana cannot run on this project's machines, so its dashboards are checked against Grafana's
# own definitions instead: (1) the @grafana/schema `Dashboard` type with tsc (npm), with one
# misspelled copy that tsc must refuse; (2) the grafana-foundation-sdk (PyPI) round trip.
# Tools go to .cache/grafana-check (git-ignored); run by make compose-test and make dashboards-check.
set -euo pipefail
cd "$(dirname "$0")/.."
here=monitoring/grafana/schema-check
boards=monitoring/grafana/provisioning/dashboards/json
cache=.cache/grafana-check
mkdir -p "$cache"
cp "$here/package.json" "$cache/package.json"
(cd "$cache" && npm install --no-audit --no-fund --silent >/dev/null)
rm -rf "$cache/ts" "$cache/broken"
python3 "$here/to_typescript.py" "$boards" "$cache/ts"
tsc=(node_modules/.bin/tsc --noEmit --strict --skipLibCheck --moduleResolution node --module commonjs)
(cd "$cache" && "${tsc[@]}" ts/*.ts)
echo "dashboards: @grafana/schema type check ok ($(ls "$cache/ts" | wc -l) dashboards)"
if (cd "$cache" && "${tsc[@]}" broken/broken.ts >/dev/null 2>&1); then
  echo "dashboards: tsc accepted a misspelled field: the check cannot fail" >&2; exit 1
fi
[ -x "$cache/venv/bin/python" ] || python3 -m venv "$cache/venv"
"$cache/venv/bin/python" -m pip install -q "grafana-foundation-sdk==1769699998!10.1.0" 2>/dev/null
"$cache/venv/bin/python" "$here/round_trip.py" "$boards"/*.json
