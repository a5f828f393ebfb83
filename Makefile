# The two commands of the README: `make run` and `make test`. Both create or refresh
# the virtual environment themselves, so a fresh clone needs only Python, git and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest screenshots bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	touch $(STAMP)

# axe-core for the accessibility checks of the browser tests (skipped where npm is absent).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund && touch $@; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

run: $(STAMP)
	$(BIN)/chatdesk demo seed
	$(BIN)/chatdesk serve

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers: the suite is mostly waiting on real servers and sockets (8.5 vs 13.5 min).
pytest: $(STAMP) node_modules/.installed
	$(BIN)/pytest -n 2 --cov --cov-report=term:skip-covered --cov-fail-under=80

screenshots: $(STAMP)
	$(BIN)/python bench/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
