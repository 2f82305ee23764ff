# The README's two commands: `make run` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test chromium bench batch evaluate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m api

test: $(STAMP) chromium
	$(BIN)/ruff check matching api tests bench
	$(BIN)/python -m pytest

batch: $(STAMP)
	$(BIN)/expe-match batch --requests data/requests.jsonl --out var/matches.csv

evaluate: $(STAMP)
	$(BIN)/expe-match evaluate --requests data/requests.jsonl --qrels data/qrels.tsv

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache
