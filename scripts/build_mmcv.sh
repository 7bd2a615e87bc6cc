#!/usr/bin/env bash
# Build the mmcv wheel (compiled ops) against the torch of PYTHON, once per torch/Python/CUDA.
#
#   bash scripts/build_mmcv.sh PYTHON CACHE     -> prints the wheel's path (last line of stdout)
#
# PyPI has no mmcv 2.x wheel for current torch: the ops are compiled here from the PyPI source,
# patched for the current toolchain, and the wheel is kept in CACHE/torch-<version>-<cpXY>[-cuda]/
# (compiled ops are tied to the torch ABI). A cached wheel is reused. Used by scripts/setup.sh
# (CPU ops) and scripts/gpu_check.sh (CUDA ops; offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=<folder>).
#
# Environment:
#   SRTOD_CUDA=1           also build the CUDA ops (needs nvcc; FORCE_CUDA)
#   TORCH_CUDA_ARCH_LIST   GPU architectures to compile for (default: torch's choice)
#   MAX_JOBS               parallel compile jobs (default: number of cores)
#   MMCV_VERSION           (default 2.1.0: the newest that mmdet 3.3 accepts)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="$1"
CACHE="$2"
MMCV_VERSION="${MMCV_VERSION:-2.1.0}"
CUDA="${SRTOD_CUDA:-0}"
log() { printf '[build_mmcv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

read -r TORCH_VERSION PYTAG < <("$PYTHON" -c 'import sys, torch
print(torch.__version__.split("+")[0], f"cp{sys.version_info[0]}{sys.version_info[1]}")')
WHEEL_DIR="$CACHE/torch-$TORCH_VERSION-$PYTAG"
if [[ "$CUDA" == 1 ]]; then WHEEL_DIR="$WHEEL_DIR-cuda"; fi
cached() { ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1; }
if [[ -n "$(cached)" ]]; then
  log "cached: $(cached)"
  cached
  exit 0
fi

mkdir -p "$WHEEL_DIR"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
PIP=("$PYTHON" -m pip --disable-pip-version-check)
# An old setuptools and wheel for the build alone, outside the environment
# (requirements/mmcv-build.txt says why). The build imports torch, so no isolation.
"${PIP[@]}" install -q --no-deps --target "$BUILD/tools" -r "$REPO/requirements/mmcv-build.txt"
PYTHONPATH="$BUILD/tools${PYTHONPATH:+:$PYTHONPATH}" "${PIP[@]}" download -q --no-deps \
  --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
SRC="$BUILD/mmcv-$MMCV_VERSION"
# torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes -std=c++14/17 (host and nvcc flags).
sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py" || { log "mmcv setup.py patch did not apply"; exit 1; }
JOBS="${MAX_JOBS:-$(nproc)}"
log "building mmcv $MMCV_VERSION for torch $TORCH_VERSION ($PYTAG), CUDA ops: $CUDA," \
    "arch: ${TORCH_CUDA_ARCH_LIST:-torch default}, $JOBS jobs"
(cd "$SRC" && PYTHONPATH="$BUILD/tools${PYTHONPATH:+:$PYTHONPATH}" \
   MMCV_WITH_OPS=1 FORCE_CUDA="$CUDA" MAX_JOBS="$JOBS" \
   "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$BUILD/dist" . >&2)
# Publish atomically so an interrupted build never leaves a broken wheel in the cache.
for whl in "$BUILD"/dist/mmcv-*.whl; do
  cp "$whl" "$WHEEL_DIR/.tmp.$(basename "$whl")"
  mv "$WHEEL_DIR/.tmp.$(basename "$whl")" "$WHEEL_DIR/$(basename "$whl")"
done
log "built $(cached)"
cached
