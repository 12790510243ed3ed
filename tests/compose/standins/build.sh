#!/usr/bin/env bash
# Stand-ins for the registry images docker-compose.yml names, for machines that cannot pull them
# (this project's CI machine: no registry is reachable). For every image the test needs:
#   - present locally (a real image, or a stand-in built by an earlier run): kept;
#   - else `docker pull` it; only when that fails, build a stand-in under the same name from
#     Debian bookworm packages (mmdebstrap + docker import), labelled oncall-copilot.standin=1.
# Stand-ins: python:3.11-slim (python3 3.11 + venv), redis:7.2-alpine (redis-server 7.0),
# prom/prometheus (prometheus 2.42), prom/alertmanager (prometheus-alertmanager 0.25),
# axllent/mailpit (mailpit.py: SMTP + the HTTP API subset the
# test reads). Grafana has no stand-in (no package anywhere): the test does not start it.
# Usage: build.sh IMAGE...   (names as in docker-compose.yml)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
LABEL=oncall-copilot.standin=1
# The host's CA bundle goes into the stand-in python base so that pip in the service builds
# trusts what this host trusts (a TLS-inspecting proxy here); the real python image needs nothing.
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

have() { docker image inspect "$1" >/dev/null 2>&1; }

rootfs() {  # rootfs NAME PACKAGES(comma-separated) -> $work/NAME.tar
  mmdebstrap --quiet --variant=minbase --include="$2" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='mkdir -p "$1/etc/ssl/certs"' \
    --customize-hook="copy-in $CA_BUNDLE /etc/ssl/certs/" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$work/$1.tar" "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main" </dev/null
}

import() {  # import TAR IMAGE
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL $LABEL" \
    --change 'CMD ["python3"]' \
    "$1" "$2" >/dev/null
}

wanted=()
for image in "$@"; do
  if have "$image"; then
    echo "standins: $image is present locally"
  elif docker pull -q "$image" >/dev/null 2>&1; then
    echo "standins: pulled $image"
  else
    wanted+=("$image")
  fi
done
[ ${#wanted[@]} -eq 0 ] && exit 0
echo "standins: cannot pull ${wanted[*]}: building stand-ins from Debian packages"

PY_BASE=oncall-copilot-standin/python-base:bookworm
TOOLS=oncall-copilot-standin/tools:bookworm
PY_PACKAGES=python3,python3-venv,python-is-python3
TOOL_PACKAGES=$PY_PACKAGES,wget,redis-server,prometheus,prometheus-alertmanager,python3-aiosmtpd
pids=()
have "$PY_BASE" || { rootfs python-base "$PY_PACKAGES" & pids+=($!); }
have "$TOOLS" || { rootfs tools "$TOOL_PACKAGES" & pids+=($!); }
for pid in "${pids[@]}"; do wait "$pid"; done
have "$PY_BASE" || import "$work/python-base.tar" "$PY_BASE"
have "$TOOLS" || import "$work/tools.tar" "$TOOLS"

for image in "${wanted[@]}"; do
  case "$image" in
    python:*) kind=python ;;
    redis:*) kind=redis ;;
    prom/prometheus:*) kind=prometheus ;;
    prom/alertmanager:*) kind=alertmanager ;;
    axllent/mailpit:*) kind=mailpit ;;
    *) echo "standins: no stand-in for $image" >&2; exit 1 ;;
  esac
  docker build -q --label "$LABEL" -t "$image" -f "$here/$kind.Dockerfile" "$here" >/dev/null
  echo "standins: built $image ($kind stand-in)"
done
