# One verb set for people and CI: make test, make lint, make bench, make demo.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILD := src/stepstone/webui/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json web/openapi.json

.PHONY: install web test test-fast lint format bench chaos demo openapi dist clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

# The UI, built into the Python package (served by `stepstone serve`); rebuilt when its
# sources change.
$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

web: $(WEB_BUILD)

# Every test, measured in the processes the tests start too (pyproject.toml
# [tool.coverage.run]); fails under 90% overall or 95% in engine/ and store/.
test: install web
	cd web && npm test
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=90
	$(BIN)/coverage report --include='src/stepstone/engine/*,src/stepstone/store/*' --fail-under=95

# The inner loop: unit and integration tests, no real processes or browser.
test-fast: install
	$(BIN)/pytest -m "not slow"

lint: install $(WEB_DEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	cd web && npm run typecheck && npm run lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench.run

# 300 runs killed at random moments and recovered, on SQLite then on PostgreSQL (make test
# runs 30 on each); reports in bench/CHAOS.md and bench/CHAOS-postgresql.md.
chaos: install
	$(BIN)/python -m tests.chaos --trials 300
	$(BIN)/python -m tests.chaos --trials 300 --database postgresql

demo: install web
	$(BIN)/stepstone demo

openapi: install
	$(BIN)/python scripts/export_openapi.py

# A wheel and an sdist in dist/ that carry the built UI: `pip install` of either needs no Node.
# `python -m build` makes the sdist, then the wheel from that sdist. The UI is gitignored, but
# setuptools does not read .gitignore and package-data lists webui/**, so the sdist carries it
# and the wheel built from the sdist shows the sdist is complete.
dist: install web
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/node_modules src/stepstone/webui \
		dist build .coverage .coverage.* htmlcov
