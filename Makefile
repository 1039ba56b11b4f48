# One verb set for people and CI: make test, make lint, make bench, make demo.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint format bench demo clean openapi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench.run

demo: install
	$(BIN)/stepstone demo

openapi: install
	$(BIN)/python scripts/export_openapi.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
