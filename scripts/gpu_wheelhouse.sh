#!/usr/bin/env bash
# Download what scripts/gpu_check.sh installs on a GPU machine that reaches no package registry.
#
#   bash scripts/gpu_wheelhouse.sh [DIR] [PYTHON_VERSION]     (default: .gpu-wheels 3.12)
#
# Run it where pip reaches PyPI, then copy DIR (a few MiB) to the GPU machine beside the repo.
# The GPU machine is expected to have python3 with torch (CUDA), torchvision, numpy, scipy, opencv,
# matplotlib, pandas, pyyaml, tqdm, rich, pillow, six and wheel; DIR holds the rest: mmengine,
# mmdet, the mmcv source, their pure-Python and binary needs for that Python, and the setuptools
# versions the mmcv build (< 70) and mmengine's config loader (pkg_resources, <= 80) need.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$REPO/.gpu-wheels}"
PYV="${2:-3.12}"
PIP=(python3 -m pip --disable-pip-version-check)
mkdir -p "$DIR"

# Same pins as requirements/base.txt where it pins. RUNTIME is what gpu_check.sh installs (written
# to DIR/requirements.txt); the mmcv build also takes setuptools < 70 and wheel from DIR.
pin() { grep -E "^$1==" "$REPO/requirements/base.txt" | head -n1 || true; }
RUNTIME=(
  "$(pin mmengine)" "$(pin mmdet)" "$(pin addict)" "$(pin yapf)" "$(pin pycocotools)"
  "$(pin faster-coco-eval)" "$(pin setuptools)" shapely terminaltables termcolor platformdirs
  tomli importlib-metadata lazy-importer zipp
)
mapfile -t BUILD_TOOLS < <(grep -Ev '^\s*(#|$)' "$REPO/requirements/mmcv-build.txt")
WHEELS=("${RUNTIME[@]}" "${BUILD_TOOLS[@]}")
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux1_x86_64; do PLATFORMS+=(--platform "$p"); done
for spec in "${WHEELS[@]}"; do
  "${PIP[@]}" download -q --no-deps --only-binary=:all: --python-version "$PYV" \
    --implementation cp "${PLATFORMS[@]}" -d "$DIR" "$spec"
done
# pip reads an sdist's metadata by running its setup.py, which imports pkg_resources: use the
# project's environment (make setup) for that one.
"$REPO/.venv/bin/python" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
  -d "$DIR" "mmcv==2.1.0"
printf '%s\n' "${RUNTIME[@]}" > "$DIR/requirements.txt"
ls -1 "$DIR"
du -sh "$DIR"
