# srtod: every entry point a user needs. `make setup` is idempotent (seconds when nothing changed).
VENV ?= .venv
BIN := $(VENV)/bin
export OMP_WAIT_POLICY ?= PASSIVE
# make demo: a scratch workspace (your results/ stays untouched) and the runs it trains
DEMO ?= $(or $(TMPDIR),/tmp)/srtod-demo
DEMO_RUNS ?= faster_rcnn,faster_rcnn_srtod
# make repro: seconds between two progress lines while the runs train
PROGRESS_SECONDS ?= 300

.PHONY: setup slurm chromium repro demo publish report verify probe test test-fast lint lab clean-venv

setup:
	@bash scripts/setup.sh

## SLURM (slurmctld, slurmd, client) and munge for the tests' one-node cluster (apt-get, root;
## returns at once when installed; elsewhere the SLURM tests skip)
slurm:
	@bash scripts/install_slurm.sh

## Debian's chromium and chromium-driver for the report's browser check (apt-get, root; returns at
## once when installed; elsewhere that check skips)
chromium:
	@bash scripts/install_chromium.sh

## Reproduce the paper's tables and figures on the embedded data set (params.yaml: profile)
repro: setup
	@mkdir -p data/raw results  # data.dvc tracks data/raw; empty unless you add a real data set
	@# the wall time is recorded for a run that changes something (publish shows it)
	@export PATH="$(abspath $(BIN)):$$PATH"; if dvc status -q >/dev/null 2>&1; then dvc repro; \
	else python -m srtod.stages.repro_info start; \
	  python -m srtod.stages.repro_info watch $(PROGRESS_SECONDS) & watcher=$$!; \
	  start=$$(date +%s); dvc repro; rc=$$?; kill $$watcher 2>/dev/null; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  printf '{"seconds": %s, "finished": "%s"}\n' "$$(( $$(date +%s) - start ))" \
	    "$$(date -u +%Y-%m-%dT%H:%M:%SZ)" > results/repro_time.json; fi
	@$(BIN)/python -m srtod.stages.repro_info end

## A look in minutes: the pipeline's notebooks (not the threshold study's) on the `smoke` profile
## (8 training images, 1 epoch) in a scratch workspace, baseline and SR-TOD only; the numbers mean nothing, the outputs show
## what `make repro` leaves and where
demo: setup
	@mkdir -p "$(DEMO)/results/notebooks"
	@echo "make demo: the pipeline's notebooks on the smoke profile (runs $(DEMO_RUNS)) in $(DEMO)"
	@export SRTOD_WORKSPACE="$(abspath $(DEMO))" MPLBACKEND=Agg PATH="$(abspath $(BIN)):$$PATH"; \
	start=$$(date +%s); \
	for nb in $$(grep -o 'notebooks/[0-9][0-9]_[a-z_]*\.ipynb' dvc.yaml | grep -v study | sort -u); do \
	  case $$nb in *02_train*|*03_evaluate*) extra="-p experiments $(DEMO_RUNS)";; *) extra="";; esac; \
	  echo "[demo $$(date +%H:%M:%S)] $$nb"; \
	  papermill --no-progress-bar $$nb "$(DEMO)/results/notebooks/$$(basename $$nb)" \
	    -p profile smoke $$extra || exit 1; \
	done; \
	echo "make demo: done in $$(( $$(date +%s) - start )) s"; \
	python -m srtod.stages.repro_info end smoke

## Copy the last run's tables and key figures to docs/results/<profile>/ (tracked by git)
publish: setup
	$(BIN)/python -m srtod pipeline publish

## The published analysis as a static site, build/report/index.html: the executed notebooks of
## docs/results/$(REPORT_PROFILE)/notebooks and the README's result, rendered by nbconvert with no
## network, then every page opened in headless Chromium (pages load, images show, links resolve)
REPORT_PROFILE ?= default
report: setup chromium
	$(BIN)/python -m srtod.report build --profile $(REPORT_PROFILE)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
	  $(BIN)/python -m srtod.report check; \
	else echo "make report: no chromium and chromium-driver here (make chromium, as root): the site is not checked"; fi

## Re-train the published baseline's first 2 epochs and compare its weights bit for bit
## (docs/reproducibility.md; RUN=faster_rcnn_srtod EPOCHS=5 for another)
verify: setup
	$(BIN)/python -m srtod verify $(or $(RUN),faster_rcnn) --epochs $(or $(EPOCHS),2)

## The determinism probe on this machine against the reference fingerprint
probe: setup
	$(BIN)/python -m srtod probe

## The test suite, notebooks included (each on its `smoke` parameters), and the models' doctests;
## as root, `make slurm` and `make chromium` first install SLURM, munge and Chromium with apt-get
## (the SLURM tests and the report's browser check skip without)
test: setup slurm chromium
	$(BIN)/python -m pytest -q --nbval-lax --doctest-modules notebooks tests srtod/models

test-fast: setup
	$(BIN)/python -m pytest -q tests -m "not slow"

lint: setup
	$(BIN)/ruff check srtod tests benchmarks

lab: setup
	$(BIN)/jupyter lab notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean-venv:
	rm -rf $(VENV)
