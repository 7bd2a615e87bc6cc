#!/usr/bin/env bash
# Put the empty data/raw (tracked by data.dvc) into DVC's cache, once; called by scripts/setup.sh.
#
#   bash scripts/dvc_cache_raw.sh [DVC]      (DVC: the dvc executable; default: .venv/bin/dvc)
#
# data/raw stays empty until you add a real data set. `dvc exp run --queue` runs each experiment
# in a temporary copy that DVC fills from its cache, so without the empty folder's entry there
# every queued experiment fails with "missing data 'source': data/raw". A data/raw with your data
# in it is left alone: `dvc add data/raw` caches it.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DVC="${1:-$REPO/.venv/bin/dvc}"
cd "$REPO"
md5="$(sed -n 's/^- md5: \([0-9a-f]*\)\.dir$/\1/p' data.dvc)"
[[ -n "$md5" && ! -e ".dvc/cache/files/md5/${md5:0:2}/${md5:2}.dir" ]] || exit 0
[[ -z "$(ls -A data/raw 2>/dev/null)" ]] || exit 0
mkdir -p data/raw
"$DVC" commit -q -f data.dvc 2>/dev/null
