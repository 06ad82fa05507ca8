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
	$(BIN)/pytest -n 3 --dist worksteal -q

lint: $(STAMP)
	$(BIN)/ruff format --check pipelines tests
	$(BIN)/ruff check pipelines tests
	$(BIN)/mypy pipelines

format: $(STAMP)
	$(BIN)/ruff format pipelines tests
	$(BIN)/ruff check --fix pipelines tests

bench: $(STAMP)  ## Compare the sequential and parallel strategies against the emulator
	RUNTIME__DLTHUB_TELEMETRY=false $(BIN)/python -m pipelines.bench fetch --issues 20000 --latency-ms 100

bench-normalize: $(STAMP)  ## Normalization and loading alone, from recorded pages
	RUNTIME__DLTHUB_TELEMETRY=false $(BIN)/python -m pipelines.bench normalize --issues 20000 --repeat 3

soak: $(STAMP)  ## Many incremental runs against a changing, failing emulator, then a full comparison
	RUNTIME__DLTHUB_TELEMETRY=false $(BIN)/python -m pipelines.soak --runs 30

clean:
	rm -rf $(VENV) .jira-etl jira.duckdb jira.duckdb.wal jira.duckdb.tmp report.html .pytest_cache .mypy_cache .ruff_cache
