# oncall-copilot — every target works on a fresh machine with python3 >= 3.11 (see README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test bench demo run scenarios lint lock up down compose-test dashboards-check clean console-screenshots

# Compose v2 (`docker compose`) when present, else docker-compose 1.29, else podman-compose.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo docker compose; \
  elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; else echo podman-compose; fi)
SERVICES ?=

setup:
	@bash scripts/setup.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

demo: setup
	$(PY) scripts/demo.py

run: setup
	$(PY) scripts/run_local.py

# PNGs of the web console's main pages in docs/console/ (a local stack + Debian's chromium).
console-screenshots: setup
	$(PY) scripts/console_screenshots.py

# ENGINE=rules|anthropic|openai (default: anthropic with ANTHROPIC_API_KEY, else rules); openai
# reads OPENAI_BASE_URL, OPENAI_SPECIALIST_MODEL, … from the environment (see README).
ENGINE ?=
scenarios: setup
	$(PY) -m tests.scenarios.run $(if $(ENGINE),--engine $(ENGINE)) $(SCENARIO_ARGS)

lint: setup
	$(VENV)/bin/bandit -q -r common ingestion-service agent-service notifier-service -ll -c pyproject.toml

# Re-pin requirements.lock from what .venv has (after adding a dependency to a pyproject).
lock:
	$(VENV)/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock.new
	@if grep -n ' @ ' requirements.lock.new; then \
	  echo "lock: a package above was installed from a file or URL; reinstall it from PyPI" >&2; \
	  rm requirements.lock.new; exit 1; fi
	mv requirements.lock.new requirements.lock

# The whole stack (SERVICES= a subset). Needs .env (cp .env.example .env, set the tokens); writes
# the file secrets from it first.
up:
	python3 scripts/compose_secrets.py
	$(COMPOSE) up -d --build $(SERVICES)

down:
	$(COMPOSE) down

# Builds and runs the stack on a real Docker engine (installs docker.io, docker-compose and
# mmdebstrap as root on Debian when missing, starts dockerd when none runs); see README.
compose-test: setup
	bash scripts/compose_test.sh

# The Grafana dashboards against @grafana/schema (tsc, npm) and the grafana-foundation-sdk round trip.
dashboards-check:
	bash scripts/check_dashboards.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .bench .demo .run
