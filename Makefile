# srtod: every entry point a user needs. `make setup` is idempotent (seconds when nothing changed).
VENV ?= .venv
BIN := $(VENV)/bin
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup repro publish test test-fast lint lab clean-venv

setup:
	@bash scripts/setup.sh

## Reproduce the paper's tables and figures on the embedded data set (params.yaml: profile)
repro: setup
	@mkdir -p data/raw results  # data.dvc tracks data/raw; empty unless you add a real data set
	@# the wall time is recorded for a run that changes something (publish shows it)
	@export PATH="$(abspath $(BIN)):$$PATH"; if dvc status -q >/dev/null 2>&1; then dvc repro; \
	else start=$$(date +%s); dvc repro && \
	  printf '{"seconds": %s, "finished": "%s"}\n' "$$(( $$(date +%s) - start ))" \
	    "$$(date -u +%Y-%m-%dT%H:%M:%SZ)" > results/repro_time.json; fi

## Copy the last run's tables and key figures to docs/results/<profile>/ (tracked by git)
publish: setup
	$(BIN)/python -m srtod pipeline publish

## The test suite, notebooks included (each on its `smoke` parameters), and the models' doctests
test: setup
	$(BIN)/python -m pytest -q --nbval-lax --doctest-modules notebooks tests srtod/models

test-fast: setup
	$(BIN)/python -m pytest -q tests -m "not slow"

lint: setup
	$(BIN)/ruff check srtod tests benchmarks

lab: setup
	$(BIN)/jupyter lab notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean-venv:
	rm -rf $(VENV)
