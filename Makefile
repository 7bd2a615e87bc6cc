# srtod: every entry point a user needs. `make setup` is idempotent (seconds when nothing changed).
VENV ?= .venv
BIN := $(VENV)/bin
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup repro test test-fast lint lab clean-venv

setup:
	@bash scripts/setup.sh

## Reproduce the paper's tables and figures on the embedded data set (params.yaml: profile)
repro: setup
	@mkdir -p data/raw  # data.dvc tracks it; empty unless you add a real data set
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro

## The test suite, notebooks included (each on its `smoke` parameters)
test: setup
	$(BIN)/python -m pytest -q --nbval-lax notebooks tests

test-fast: setup
	$(BIN)/python -m pytest -q tests -m "not slow"

lint: setup
	$(BIN)/ruff check srtod tests benchmarks

lab: setup
	$(BIN)/jupyter lab notebooks

clean-venv:
	rm -rf $(VENV)
