#!/usr/bin/env bash
# The paper path on a GPU, in one command: build mmcv's CUDA ops, train, predict, time.
#
#   bash scripts/gpu_check.sh [OUT_DIR]          (default OUT_DIR: results/gpu_check)
#
# For a GPU machine with python3 + torch (CUDA) already installed and no package registry in
# reach. It never installs or upgrades torch. Everything else comes from a folder of files made
# beforehand where pip reaches PyPI (`bash scripts/gpu_wheelhouse.sh`, a few MiB) and installs into
# a separate folder put first on PYTHONPATH, so the machine's own packages stay untouched:
#   1. mmengine, mmdet and their pure-Python / binary needs from the wheel folder;
#   2. mmcv built from source with CUDA ops for the GPU in hand only (TORCH_CUDA_ARCH_LIST from
#      the device's compute capability), all cores; the wheel is cached and reused;
#   3. benchmarks/gpu_check.py: 50 training iterations of the paper Faster R-CNN w/ SR-TOD on
#      generated 1920 x 1080 frames (fp32, then --amp), prediction of a test split, and inference
#      time without and with SR-TOD. Figures are printed and written to OUT_DIR/gpu_check.json.
#
# Environment: SRTOD_WHEELS (default <repo>/.gpu-wheels), SRTOD_SITE (default /tmp/srtod-site),
# SRTOD_WHEEL_CACHE (default ~/.cache/srtod/wheels), PYTHON (default python3), TORCH_CUDA_ARCH_LIST,
# MAX_JOBS, SRTOD_GPU_CHECK_ARGS (extra arguments of benchmarks/gpu_check.py), SRTOD_CHECK_DEVICE=cpu
# (rehearse the whole script on a CPU machine: CPU ops, e.g. with "--iters 12 --repeats 1").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$REPO/results/gpu_check}"
WHEELS="${SRTOD_WHEELS:-$REPO/.gpu-wheels}"
SITE="${SRTOD_SITE:-/tmp/srtod-site}"
CACHE="${SRTOD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/srtod/wheels}"
PY="${PYTHON:-python3}"
T0=$(date +%s)
log() { printf '[gpu_check %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*"; }

[[ -d "$WHEELS" ]] || { echo "error: no wheel folder $WHEELS: run scripts/gpu_wheelhouse.sh where pip reaches PyPI and copy it here" >&2; exit 2; }
DEVICE="${SRTOD_CHECK_DEVICE:-cuda}"
DEVICE="$DEVICE" "$PY" - <<'EOF' || exit 2
import os, sys, torch
if os.environ["DEVICE"] == "cuda" and not torch.cuda.is_available():
    sys.exit(f"error: torch {torch.__version__} sees no CUDA GPU: this check needs one")
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}")
EOF
CUDA_OPS=1; [[ "$DEVICE" == cpu ]] && CUDA_OPS=0
if [[ "$CUDA_OPS" == 1 && -z "${TORCH_CUDA_ARCH_LIST:-}" ]]; then
  TORCH_CUDA_ARCH_LIST="$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')"
  export TORCH_CUDA_ARCH_LIST
fi
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELS" PIP_DISABLE_PIP_VERSION_CHECK=1
export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1

log "installing mmengine, mmdet and their needs from $WHEELS into $SITE"
# the list is the folder's requirements.txt (written by gpu_wheelhouse.sh)
"$PY" -m pip install -q --no-deps --target "$SITE" --upgrade -r "$WHEELS/requirements.txt"
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"

log "mmcv with compiled ops (CUDA: $CUDA_OPS, arch ${TORCH_CUDA_ARCH_LIST:-none}, $(nproc) cores)"
MMCV_WHEEL="$(SRTOD_CUDA=$CUDA_OPS bash "$REPO/scripts/build_mmcv.sh" "$PY" "$CACHE")"
"$PY" -m pip install -q --no-deps --target "$SITE" --upgrade "$MMCV_WHEEL"
log "mmcv installed ($(basename "$MMCV_WHEEL"))"

mkdir -p "$OUT_DIR"
# shellcheck disable=SC2086
"$PY" "$REPO/benchmarks/gpu_check.py" --data "$OUT_DIR/data" --out "$OUT_DIR/gpu_check.json" \
  --device "$DEVICE" ${SRTOD_GPU_CHECK_ARGS:-}
log "done"
