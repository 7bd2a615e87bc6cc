"""Single source of the repository's paths (data, results, configs).

``SRTOD_WORKSPACE`` moves everything the pipeline writes (``data/prepared``, ``results``,
``work_dirs``) to another folder; the tests use it so they never touch a user's results.
"""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
CONFIGS = PACKAGE / "configs"
RAW_DATA = ROOT / "data" / "raw"  # tracked by data.dvc: real data sets go here (srtod/data/README.md)

WORKSPACE = Path(os.environ.get("SRTOD_WORKSPACE", ROOT)).resolve()
PREPARED = WORKSPACE / "data" / "prepared"  # output of the prepare stage: what training reads
WORK_DIRS = WORKSPACE / "work_dirs"  # checkpoints and logs, one folder per experiment
RESULTS = WORKSPACE / "results"  # metrics, tables, figures, executed notebooks
FIGURES = RESULTS / "figures"
TABLES = RESULTS / "tables"
