# oncall-copilot — every target works on a fresh machine with python3 >= 3.11 (see README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test bench demo run scenarios lint lock up down clean

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

scenarios: setup
	$(PY) -m tests.scenarios.run $(SCENARIO_ARGS)

lint: setup
	$(VENV)/bin/bandit -q -r common ingestion-service agent-service notifier-service -ll -c pyproject.toml

# Re-pin requirements.lock from what .venv has (after adding a dependency to a pyproject).
lock:
	$(VENV)/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock.new
	@if grep -n ' @ ' requirements.lock.new; then \
	  echo "lock: a package above was installed from a file or URL; reinstall it from PyPI" >&2; \
	  rm requirements.lock.new; exit 1; fi
	mv requirements.lock.new requirements.lock

up:
	docker compose up -d --build

down:
	docker compose down

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .bench .demo .run
