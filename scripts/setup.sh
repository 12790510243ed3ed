#!/usr/bin/env bash
# Idempotent set-up on a fresh machine with python3 >= 3.11:
#  - as root with apt-get: installs the Debian packages the tests and the demo use;
#  - creates .venv/ at the repository root with every service installed (editable) from the
#    pinned requirements.lock. A second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"python3 >= 3.11 is required, found {sys.version.split()[0]}")
PY

# binary -> Debian package
declare -A PACKAGES=(
  [redis-server]=redis-server
  [haproxy]=haproxy
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [mtail]=mtail
  [openssl]=openssl
  [chromium]=chromium
)
missing=()
for binary in "${!PACKAGES[@]}"; do
  if ! command -v "$binary" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$binary" ]; then
    missing+=("${PACKAGES[$binary]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${SKIP_APT:-0}" != 1 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing ${missing[*]} (not root or no apt-get); tests needing them will skip" >&2
  fi
fi

if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  # A plain Debian python3 has no ensurepip until python3-venv is installed.
  if ! "$PYTHON" -c "import ensurepip" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.setup-stamp
digest=$(cat requirements.lock common/pyproject.toml ingestion-service/pyproject.toml \
  agent-service/pyproject.toml notifier-service/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi
echo "setup: installing Python packages into .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.lock
# pip freeze leaves the build tools out of the lock; the editable installs below need them.
.venv/bin/python -m pip install -q "setuptools>=68" wheel
.venv/bin/python -m pip install -q --no-deps --no-build-isolation \
  -e common -e ingestion-service -e agent-service -e notifier-service
echo "$digest" > "$stamp"
echo "setup: done"
