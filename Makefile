# jira-etl: every target creates .venv and installs the package when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo run check test lint format bench bench-normalize soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## Start the emulator, load it into ./jira.duckdb, print what landed
	$(BIN)/jira-etl demo --duckdb-path jira.duckdb --dataset jira

run: $(STAMP)  ## The main job, configured by .env / JIRA_* variables
	$(BIN)/jira-etl run

check: $(STAMP)  ## Verify the connection configured in .env
	$(BIN)/jira-etl check

test: $(STAMP)  ## The test suite
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff format --check pipelines tests
	$(BIN)/ruff check pipelines tests
	$(BIN)/mypy pipelines

format: $(STAMP)
	$(BIN)/ruff format pipelines tests
	$(BIN)/ruff check --fix pipelines tests

clean:
	rm -rf $(VENV) .jira-etl jira.duckdb report.html .pytest_cache .mypy_cache .ruff_cache
