# make run: the whole platform on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it).
# make test: lint, format check and the whole test suite.

VENV := .venv
BIN := $(VENV)/bin
# Inside the virtualenv, so that a new .venv is always installed afresh.
STAMP := $(VENV)/.install-stamp
PORT ?= 8000

# The first of python3.11 and python3 that is Python 3.11; evaluated only when the
# virtualenv has to be created.
PYTHON311 = $(shell for candidate in python3.11 python3; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	2>/dev/null && { command -v $$candidate; break; }; done)

.PHONY: run test lint format

run: $(STAMP)
	$(BIN)/python manage.py up --port=$(PORT)

test: lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/python:
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is needed (python3.11 or python3)." >&2; exit 1; }
	$(PYTHON311) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	touch $(STAMP)
