# Each target makes and uses its own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PYTEST := $(BIN)/python -m pytest $(PYTEST_ARGS)
HOST ?= 127.0.0.1
PORT ?= 5000
# The app reads them too: without EXTERNAL_BASE_URL, e-mailed links point at http://HOST:PORT.
export HOST PORT

.PHONY: run test test-sqlite test-postgres system-packages bench bench-load bench-scale lint format translations clean

$(BIN)/python:
	@echo "Creating the virtual environment .venv"
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	@echo "Installing dependencies into .venv, about a minute..."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	touch $(INSTALLED)

## run: the app and its worker with demo data on http://$(HOST):$(PORT) (default 127.0.0.1:5000); Ctrl-C stops both
run: $(INSTALLED)
	@echo "Preparing the database, the diagrams and the demo people..."
	$(FLASK) db upgrade
	$(FLASK) workflows sync
	$(FLASK) demo load
	@$(FLASK) worker & worker=$$!; $(FLASK) run --host $(HOST) --port $(PORT) & web=$$!; \
	trap 'kill $$worker $$web 2>/dev/null; wait' EXIT INT TERM; \
	until $(BIN)/python -c 'import socket, sys; socket.create_connection(sys.argv[1:], 1).close()' $(HOST) $(PORT) 2>/dev/null; do \
		kill -0 $$web 2>/dev/null || exit 1; sleep 0.2; done; \
	echo "Big Buyers Workflow is running at http://$(HOST):$(PORT) - sign in as admin@bigbuyers.example.eu" \
		"(then the code that '$(FLASK) demo code' prints) or as any demo person in README.md," \
		"password bigbuyers-demo; Ctrl-C stops it"; \
	wait $$web

## system-packages: install chromium, postgresql, libatomic1, nodejs and npm when missing (as root; else says how), and the test S3 server (npm)
system-packages:
	@tests/setup-system

## test: the whole suite twice, on SQLite and on PostgreSQL at once (a pass a core); fails if either pass fails
# Each pass's output is printed whole when that pass ends (--output-sync): never interleaved.
test: system-packages $(INSTALLED)
	@echo "== make test: the SQLite and the PostgreSQL pass run at once; each one's output shows when it ends"
	@$(MAKE) --no-print-directory --jobs=2 --output-sync=target --keep-going test-sqlite test-postgres \
		|| { echo "make test: failed; make's line '*** [...: test-sqlite]' or '[...: test-postgres]' says which"; exit 1; }

## test-sqlite: the suite on SQLite only
test-sqlite: system-packages $(INSTALLED)
	@echo "== the SQLite pass"
	$(PYTEST)

## test-postgres: the suite on a throwaway PostgreSQL cluster only (tests/pg.py)
test-postgres: system-packages $(INSTALLED)
	@echo "== the PostgreSQL pass"
	$(PYTEST) --postgres

## bench: engine, service, HTTP and inbox timings, as ratios against stock SpiffWorkflow
bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

## bench-load: gunicorn, PostgreSQL, a worker and BENCH_PEOPLE (50) people for BENCH_SECONDS (60) (docs/PERFORMANCE.md, "Load")
bench-load: system-packages $(INSTALLED)
	$(BIN)/python -m tests.load $(BENCH_ARGS)

## bench-scale: the inbox and the monitoring list on a throwaway PostgreSQL holding 1 000 000 requests (docs/SCALING.md)
bench-scale: system-packages $(INSTALLED)
	$(BIN)/python -m tests.load.million $(SCALE_ARGS)

## lint: style (ruff), the layers and no import cycles (lint-imports), types (mypy), texts for people marked for translation
lint: $(INSTALLED)
	$(BIN)/ruff check app forms tests wsgi.py
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m tests.i18n_lint

## translations: gather the strings marked for translation into each language's catalogue, then compile them
# app/translations/<language>/LC_MESSAGES/messages.po is what translators edit; a new language: make translations NEW_LANGUAGE=xx (then add it to LANGUAGES).
TRANSLATIONS := app/translations
translations: $(INSTALLED)
	$(BIN)/pybabel -q extract --project "Big Buyers Workflow" --version 0.1.0 --copyright-holder "Big Buyers Workflow contributors" --msgid-bugs-address "the project's issue tracker" --no-location --sort-output -F babel.cfg -k lazy_gettext -k _l -k lazy_pgettext:1c,2 -o $(TRANSLATIONS)/messages.pot .
	@for lang in $$(cd $(TRANSLATIONS) && ls -d */ | tr -d /) $(NEW_LANGUAGE); do \
		if [ -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
		else $(BIN)/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; fi; done
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

format: $(INSTALLED)
	$(BIN)/ruff format app forms tests wsgi.py

clean:
	rm -rf $(VENV) build *.egg-info
