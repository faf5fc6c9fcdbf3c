# Each target makes and uses its own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite bench lint format clean

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
	@trap 'kill 0' INT TERM EXIT; $(FLASK) worker & $(FLASK) run --host $(HOST) --port $(PORT)

## test: the whole suite
test: $(INSTALLED)
	$(BIN)/python -m pytest

## bench: engine, service, HTTP and inbox timings, as ratios against stock SpiffWorkflow
bench: $(INSTALLED)
	$(BIN)/python -m tests.bench

lint: $(INSTALLED)
	$(BIN)/ruff check app forms tests wsgi.py

format: $(INSTALLED)
	$(BIN)/ruff format app forms tests wsgi.py

clean:
	rm -rf $(VENV) build *.egg-info
