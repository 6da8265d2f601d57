# syncq: `make run` brings the whole stack up on its embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-quick lint format settings-doc bench redis clean

$(STAMP): pyproject.toml examples/syncq-source-example/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,embedded]'
	# The example source plugin, installed as any plugin would be: its tests run with syncq's.
	$(PY) -m pip install -q -e examples/syncq-source-example
	touch $(STAMP)

setup: $(STAMP)

redis:
	bash .ci/ensure-redis

run: setup
	$(VENV)/bin/syncq standalone

test: setup redis
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The README's configuration table, from the settings model (core/settings/).
settings-doc: setup
	$(PY) -m core.settings_doc

test-quick: setup redis
	$(PY) -m pytest -m "not slow"

bench: setup redis
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
