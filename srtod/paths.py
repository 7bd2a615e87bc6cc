"""Single source of the repository's paths (data, results, configs)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
CONFIGS = PACKAGE / "configs"
DATA = ROOT / "data"
RAW_DATA = DATA / "raw"
RESULTS = ROOT / "results"
