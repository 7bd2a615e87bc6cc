# The environment of srtod on a GPU machine with python3 + torch (CUDA) and no package registry.
#
#   source scripts/gpu_env.sh        (then python3 -m srtod ..., benchmarks/*.py)
#
# It never installs or upgrades torch. Everything else comes from a folder of files made beforehand
# where pip reaches PyPI (`bash scripts/gpu_wheelhouse.sh`, a few MiB) and installs into a separate
# folder put first on PYTHONPATH, so the machine's own packages stay untouched:
#   1. mmengine, mmdet and their pure-Python / binary needs from the wheel folder;
#   2. mmcv built from source with CUDA ops for the GPU in hand only (TORCH_CUDA_ARCH_LIST from
#      the device's compute capability), all cores; the wheel is cached and reused (about 5 min to
#      build on 16 cores; carry the cache to skip it).
# Sets and exports REPO, PY, PYTHONPATH, OMP_WAIT_POLICY=PASSIVE and PYTHONUNBUFFERED=1; defines log.
#
# Environment: SRTOD_WHEELS (default <repo>/.gpu-wheels), SRTOD_SITE (default /tmp/srtod-site),
# SRTOD_WHEEL_CACHE (default ~/.cache/srtod/wheels), PYTHON (default python3), TORCH_CUDA_ARCH_LIST,
# MAX_JOBS, SRTOD_CHECK_DEVICE=cpu (rehearse on a CPU machine: CPU ops).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHEELS="${SRTOD_WHEELS:-$REPO/.gpu-wheels}"
SITE="${SRTOD_SITE:-/tmp/srtod-site}"
CACHE="${SRTOD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/srtod/wheels}"
PY="${PYTHON:-python3}"
T0=${T0:-$(date +%s)}
log() { printf '[gpu %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*"; }

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
MMCV_WHEEL="$(SRTOD_CUDA=$CUDA_OPS bash "$REPO/scripts/build_mmcv.sh" "$PY" "$CACHE")" || true
# (checked here, not by set -e: a caller's `source gpu_env.sh && ...` switches set -e off)
[[ -f "$MMCV_WHEEL" ]] || { echo "error: the mmcv build failed (its log is above)" >&2; return 2 2>/dev/null || exit 2; }
"$PY" -m pip install -q --no-deps --target "$SITE" --upgrade "$MMCV_WHEEL"
log "mmcv installed ($(basename "$MMCV_WHEEL"))"
