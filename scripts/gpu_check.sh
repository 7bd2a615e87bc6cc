#!/usr/bin/env bash
# The paper path on a GPU, in one command: set up (scripts/gpu_env.sh), train, predict, time.
#
#   bash scripts/gpu_check.sh [OUT_DIR]          (default OUT_DIR: results/gpu_check)
#
# benchmarks/gpu_check.py: 50 training iterations of the paper Faster R-CNN w/ SR-TOD on generated
# 1920 x 1080 frames (fp32, then --amp), prediction of a test split, and inference time without and
# with SR-TOD. Figures are printed and written to OUT_DIR/gpu_check.json.
#
# Environment: that of scripts/gpu_env.sh, and SRTOD_GPU_CHECK_ARGS (extra arguments of
# benchmarks/gpu_check.py); SRTOD_CHECK_DEVICE=cpu rehearses the whole script on a CPU machine
# (CPU ops, e.g. with "--iters 12 --repeats 1").
set -euo pipefail

T0=$(date +%s)
# shellcheck source=scripts/gpu_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/gpu_env.sh"
OUT_DIR="${1:-$REPO/results/gpu_check}"
mkdir -p "$OUT_DIR"
# shellcheck disable=SC2086
"$PY" "$REPO/benchmarks/gpu_check.py" --data "$OUT_DIR/data" --out "$OUT_DIR/gpu_check.json" \
  --device "$DEVICE" ${SRTOD_GPU_CHECK_ARGS:-}
log "done"
