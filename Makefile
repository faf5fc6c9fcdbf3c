# Each target makes and uses its own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PYTEST := $(BIN)/python -m pytest $(PYTEST_ARGS)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres system-packages bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	touch $(INSTALLED)

## run: the app and its worker with demo data on http://127.0.0.1:5000; Ctrl-C stops both
run: $(INSTALLED)
	$(FLASK) db upgrade
	$(FLASK) workflows sync
	$(FLASK) demo load
	@$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## system-packages: install chromium, postgresql and libatomic1 when missing (as root; else says how)
system-packages:
	@tests/setup-system

## test: the whole suite twice, on SQLite then on PostgreSQL; fails if either pass fails
test: system-packages $(INSTALLED)
	@failed=""; \
	echo "== pass 1 of 2: SQLite"; $(PYTEST) || failed="$$failed SQLite"; \
	echo "== pass 2 of 2: PostgreSQL"; $(PYTEST) --postgres || failed="$$failed PostgreSQL"; \
	if [ -n "$$failed" ]; then echo "make test: failed on$$failed"; exit 1; fi

## test-sqlite: the suite on SQLite only
test-sqlite: system-packages $(INSTALLED)
	$(PYTEST)

## test-postgres: the suite on a throwaway PostgreSQL cluster only (tests/pg.py)
test-postgres: system-packages $(INSTALLED)
	$(PYTEST) --postgres

## bench: engine, service, HTTP and inbox timings, as ratios against stock SpiffWorkflow
bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

lint: $(INSTALLED)
	$(BIN)/ruff check app forms tests wsgi.py

format: $(INSTALLED)
	$(BIN)/ruff format app forms tests wsgi.py

clean:
	rm -rf $(VENV) build *.egg-info
