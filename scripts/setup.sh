#!/usr/bin/env bash
# One-time, idempotent set-up of the srtod environment.
#
#   bash scripts/setup.sh          (or: make setup)
#
# Creates .venv/ in the repository, installs pinned torch/torchvision, builds mmcv 2.x with its
# compiled CPU ops from the PyPI source (patched for the current toolchain) into a wheel cache
# outside the repository, installs mmdet/mmengine and the notebook/pipeline stack, installs srtod
# in editable mode and registers a Jupyter kernel. A second run with nothing changed returns in
# about a second.
#
# Environment:
#   SRTOD_VENV        venv location                (default: <repo>/.venv)
#   SRTOD_WHEEL_CACHE where the built mmcv wheel is kept  (default: ~/.cache/srtod/wheels)
#   PYTHON            interpreter for the venv    (default: python3.11, else python3)
#   SRTOD_CUDA=1      build mmcv's CUDA ops too (GPU machines with nvcc; default: CPU ops only)
#   MAX_JOBS          parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SRTOD_VENV:-$REPO/.venv}"
CACHE="${SRTOD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/srtod/wheels}"
MMCV_VERSION="2.1.0"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Everything that defines the environment; a change to any of these re-runs the install.
stamp_key() {
  cat "$REPO/requirements/torch.txt" "$REPO/requirements/base.txt" "$REPO/pyproject.toml" \
      "$REPO/scripts/setup.sh" | sha256sum | cut -c1-16
}
STAMP="$VENV/.srtod-setup"
KEY="$(stamp_key)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" && -x "$VENV/bin/python" ]]; then
  log "environment up to date ($VENV)"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtual environment $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=24,<26"

log "installing torch/torchvision (requirements/torch.txt)"
"${PIP[@]}" install -q -r "$REPO/requirements/torch.txt"
TORCH_VERSION="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
PYTAG="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"

# mmcv's compiled ops are tied to the torch ABI: one cache folder per torch version and Python.
CUDA="${SRTOD_CUDA:-0}"
WHEEL_DIR="$CACHE/torch-$TORCH_VERSION-$PYTAG"
if [[ "$CUDA" == 1 ]]; then WHEEL_DIR="$WHEEL_DIR-cuda"; fi
mkdir -p "$WHEEL_DIR"
if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  log "no cached mmcv $MMCV_VERSION wheel in $WHEEL_DIR: building from source (CUDA ops: $CUDA; ~15 min on 2 cores)"
  BUILD="$(mktemp -d)"
  trap 'rm -rf "$BUILD"' EXIT
  # The build imports torch (no build isolation) and mmcv's setup.py imports pkg_resources,
  # which setuptools >= 70 no longer ships: pin an older setuptools for the build only.
  "${PIP[@]}" install -q "setuptools<70" wheel ninja
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$BUILD" "mmcv==$MMCV_VERSION"
  tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
  SRC="$BUILD/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes -std=c++14/17.
  sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
  grep -q -- '-std=c++20' "$SRC/setup.py" || { echo "mmcv setup.py patch did not apply" >&2; exit 1; }
  (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA="$CUDA" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
     "$VENV/bin/python" -m pip wheel -q --no-deps --no-build-isolation -w "$BUILD/dist" .)
  # Publish atomically so an interrupted build never leaves a broken wheel in the cache.
  for whl in "$BUILD"/dist/mmcv-*.whl; do
    cp "$whl" "$WHEEL_DIR/.tmp.$(basename "$whl")"
    mv "$WHEEL_DIR/.tmp.$(basename "$whl")" "$WHEEL_DIR/$(basename "$whl")"
  done
  log "cached $(ls "$WHEEL_DIR"/mmcv-*.whl)"
fi
log "installing mmcv from $WHEEL_DIR"
"${PIP[@]}" install -q --no-deps --force-reinstall "$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl | head -n1)"

log "installing the pinned stack (requirements/base.txt) and srtod (editable)"
# base.txt pins the run-time setuptools (torch needs >= 77, mmengine needs pkg_resources).
"${PIP[@]}" install -q -r "$REPO/requirements/base.txt" -c "$REPO/requirements/torch.txt"
"${PIP[@]}" install -q --no-deps -e "$REPO"

log "checking the install"
"$VENV/bin/python" - <<'EOF'
import mmcv, mmdet, mmengine, torch
from mmcv.ops import nms, RoIAlign  # compiled ops must load
import torch
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]); scores = torch.tensor([0.9, 0.8])
keep = nms(boxes, scores, 0.5)[1]
assert keep.tolist() == [0], keep
print(f"torch {torch.__version__}, mmcv {mmcv.__version__} (ops ok), mmdet {mmdet.__version__}, "
      f"mmengine {mmengine.__version__}")
EOF

log "registering the Jupyter kernel 'srtod'"
"$VENV/bin/python" -m ipykernel install --user --name srtod --display-name "Python (srtod)" >/dev/null

echo "$KEY" > "$STAMP"
log "done"
