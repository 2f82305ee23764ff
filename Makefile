# The README's two commands: `make run` and `make test`. Each sets up .venv itself.
# While working: `make test-fast` (everything not marked slow) and `make lint`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Re-install when pyproject.toml changes.
HASH := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUNTIME := $(VENV)/.runtime-$(HASH)
DEV := $(VENV)/.dev-$(HASH)
BENCH := $(VENV)/.bench-$(HASH)

.PHONY: run test test-fast lint typecheck chromium batch evaluate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME)

$(BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@ $(DEV) $(RUNTIME)

# Debian's chromium drives the browser tests (Playwright's own download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(RUNTIME)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m api

LINTED := matching api tests bench

# The whole suite: lint, types, then every test.
test: $(DEV) chromium
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The fast loop: everything but faults, schemathesis, browser, notebooks and CLI subprocesses.
test-fast: $(DEV)
	$(BIN)/python -m pytest -m "not slow"

lint: $(DEV)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# mypy over matching/ and api/ (configured in pyproject.toml, [tool.mypy]).
typecheck: $(DEV)
	$(BIN)/mypy

batch: $(RUNTIME)
	$(BIN)/expe-match batch --requests data/requests.jsonl --out var/matches.csv

evaluate: $(RUNTIME)
	$(BIN)/expe-match evaluate --requests data/requests.jsonl --qrels data/qrels.tsv

bench: $(BENCH)
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache
