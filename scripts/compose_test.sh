#!/usr/bin/env bash
# make compose-test: the compose stack built and run on a real Docker engine.
#  1. as root on Debian, installs what is missing: docker.io (engine), docker-compose (1.29, used
#     when no Compose v2 plugin is there), mmdebstrap (stand-in images);
#  2. starts dockerd in the background when no engine answers, and stops it at exit (only the
#     daemon it started, by its PID);
#  3. for every registry image the test starts that is neither present nor pullable, builds a
#     stand-in under the same name (tests/compose/standins/build.sh);
#  4. checks the Grafana dashboards against Grafana's schema (Grafana itself cannot run here);
#  5. runs tests/compose (build, make up, healthchecks, alert -> email, down -v) and its figure line.
set -euo pipefail
cd "$(dirname "$0")/.."
started_dockerd=
cleanup() {
  if [ -n "$started_dockerd" ]; then
    echo "compose-test: stopping the dockerd it started (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap cleanup EXIT

need=()
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || need+=(docker.io)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "compose-test: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "compose-test: missing ${need[*]} (install them, or run as root on Debian)" >&2
    exit 1
  fi
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "compose-test: no Docker engine answers and not root to start one" >&2; exit 1; }
  log=$(mktemp /tmp/compose-test-dockerd.XXXXXX.log)
  echo "compose-test: starting dockerd (log $log)"
  dockerd >"$log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "compose-test: dockerd did not start:" >&2; tail -20 "$log" >&2; exit 1; }
fi

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
export COMPOSE
echo "compose-test: engine $(docker version --format '{{.Server.Version}}'), $($COMPOSE version --short 2>/dev/null || $COMPOSE version | head -1) ($COMPOSE)"

bash scripts/check_dashboards.sh

# Registry images of the services the test starts (Grafana is not among them), plus the python
# base our Dockerfiles build from.
standins_started=$(date +%s)
bash tests/compose/standins/build.sh python:3.11-slim \
  $(python3 - <<'PY'
import re
text = open("docker-compose.yml").read()
started = {"redis", "redis-replica", "redis-state", "mailpit", "prometheus", "alertmanager"}
images, service = [], None
for line in text.splitlines():
    if m := re.match(r"^  ([a-z][a-z0-9-]*):\s*$", line):
        service = m.group(1)
    elif (m := re.match(r"^    image:\s*(\S+)", line)) and service in started:
        images.append(m.group(1))
print(" ".join(sorted(set(images))))
PY
)
echo "compose-test: base images ready in $(( $(date +%s) - standins_started )) s"

COMPOSE_TEST=1 .venv/bin/python -m pytest tests/compose -q -s -p no:cacheprovider ${PYTEST_ARGS:-}
