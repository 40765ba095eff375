# nhanes-bone — `make` prints this help. Variables can be set on the command line
# (make warehouse WAREHOUSE=build/test.duckdb) or in the environment.

PYTHON          ?= python3
VENV            ?= .venv
NHANES_DATA_DIR ?= data/raw
WAREHOUSE       ?= warehouse/nhanes.duckdb
DEMO_DATA_DIR   ?= data/synthetic
DEMO_WAREHOUSE  ?= warehouse/demo.duckdb
SEED            ?= 20250101
BKMR_ITER       ?= 10000
DEMO_BKMR_ITER  ?= 1000
PYTEST_ARGS     ?=

export NHANES_DATA_DIR WAREHOUSE
export DBT_SEND_ANONYMOUS_USAGE_STATS = false
export GX_ANALYTICS_ENABLED = false

BIN   := $(VENV)/bin
CLI   := $(BIN)/nhanes-bone
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install warehouse demo synth ingest fetch dq analysis reproduce report test test-faults lint format bench docs docs-serve clean

help: ## Show this help
	@echo "nhanes-bone: NHANES bone-health warehouse (DuckDB + dbt)"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: NHANES_DATA_DIR=$(NHANES_DATA_DIR) WAREHOUSE=$(WAREHOUSE) PYTHON=$(PYTHON) VENV=$(VENV)"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its locked dependencies

warehouse: $(STAMP) ## Ingest NHANES_DATA_DIR and dbt build into WAREHOUSE (swapped in only on success)
	$(CLI) build --data-dir "$(NHANES_DATA_DIR)" --warehouse "$(WAREHOUSE)"

ingest: $(STAMP) ## Only load new/changed XPT files into WAREHOUSE's raw schema
	$(CLI) ingest --data-dir "$(NHANES_DATA_DIR)" --warehouse "$(WAREHOUSE)"

fetch: $(STAMP) ## Download missing study files from CDC into NHANES_DATA_DIR (needs internet)
	$(CLI) fetch --data-dir "$(NHANES_DATA_DIR)"

# the twin is rewritten when its generator changes (a new generator may write new files)
$(DEMO_DATA_DIR)/TRUTH.json: $(wildcard ingest/synth/*.py) | $(STAMP)
	$(CLI) synth --out "$(DEMO_DATA_DIR)" --seed $(SEED)

synth: $(DEMO_DATA_DIR)/TRUTH.json ## Write the SYNTHETIC twin to DEMO_DATA_DIR (again when ingest/synth changes)

demo: $(STAMP) $(DEMO_DATA_DIR)/TRUTH.json ## Offline end to end on the SYNTHETIC twin: synth → ingest → dbt build → data quality → analyses → report
	$(CLI) build --data-dir "$(DEMO_DATA_DIR)" --warehouse "$(DEMO_WAREHOUSE)"
	$(CLI) dq --warehouse "$(DEMO_WAREHOUSE)"
	$(CLI) analyze --warehouse "$(DEMO_WAREHOUSE)" --run demo --sensitivity --bkmr-iter $(DEMO_BKMR_ITER)
	$(CLI) report --warehouse "$(DEMO_WAREHOUSE)" --run demo
	@echo "demo warehouse (SYNTHETIC data): $(DEMO_WAREHOUSE)"

dq: $(STAMP) ## Data-quality checks (GX) on WAREHOUSE; fails on any critical expectation
	$(CLI) dq --warehouse "$(WAREHOUSE)"

analysis: $(STAMP) ## Tables 1-4 (unweighted and design-based), WQS, BKMR (BKMR_ITER per chain), study 2 and the sensitivity table from WAREHOUSE into reports/<run>/tables and the analysis schema
	$(CLI) analyze --warehouse "$(WAREHOUSE)" --sensitivity --bkmr-iter $(BKMR_ITER)

reproduce: $(STAMP) ## Rank the declared grid of cohort definitions against Peng et al. (analysis.reproduction in WAREHOUSE)
	$(CLI) reproduce --warehouse "$(WAREHOUSE)"

report: $(STAMP) ## Render reports/<run>/report.html from WAREHOUSE (seconds; refits nothing)
	$(CLI) report --warehouse "$(WAREHOUSE)"

test: $(STAMP) ## Run the test suite (unit, integration on real and synthetic data)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-faults: $(STAMP) ## The fault-injection suite: builds killed at 20 points, two at once, a full disk, a damaged file (minutes)
	$(BIN)/python -m pytest -m faults $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check, the import-linter layer contracts, mypy on core/ and methods/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP) ## ruff format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## Benchmarks: ingest throughput, synthetic generation, WQS and qgcomp wall time, BKMR iterations/s, reproduction search (prints figures)
	@# this machine's speed first (figures against recorded anchors move with it), then the
	@# start-up-bound CLI timings: the 100x twin of bench_build empties the page cache
	$(BIN)/python tests/benchmarks/results.py
	$(BIN)/python tests/benchmarks/bench_wqs.py
	$(BIN)/python tests/benchmarks/bench_qgcomp.py
	$(BIN)/python tests/benchmarks/bench_ingest.py
	$(BIN)/python tests/benchmarks/bench_build.py
	$(BIN)/python tests/benchmarks/bench_synth.py
	$(BIN)/python tests/benchmarks/bench_bkmr.py
	$(BIN)/python tests/benchmarks/bench_reproduce.py

docs: $(STAMP) ## Generate the dbt docs site for WAREHOUSE
	$(CLI) docs --warehouse "$(WAREHOUSE)"

docs-serve: docs ## Serve the dbt docs site on http://localhost:8080
	cd dbt_project && WAREHOUSE="$(abspath $(WAREHOUSE))" ../$(BIN)/dbt docs serve --port 8080 --profiles-dir .

clean: ## Remove build outputs (warehouses, reports, dbt target); keeps .venv and data/
	rm -rf warehouse reports build dbt_project/target dbt_project/logs logs .pytest_cache
