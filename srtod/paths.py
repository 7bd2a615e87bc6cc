"""Single source of the repository's paths (data, results, configs).

The folders the pipeline writes are named once, in ``srtod/layout.yaml``, which ``dvc.yaml`` loads
as its ``vars``; :func:`output_dir` turns a name of it into a path. ``SRTOD_WORKSPACE`` moves everything
the pipeline writes (``data/prepared``, ``results``, ``work_dirs``) to another folder; the tests
use it so they never touch a user's results.
"""

import os
import subprocess
from pathlib import Path

import yaml

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
CONFIGS = PACKAGE / "configs"
LAYOUT = PACKAGE / "layout.yaml"
DOCS_RESULTS = ROOT / "docs" / "results"  # the published results, committed
RAW_DATA = ROOT / "data" / "raw"  # tracked by data.dvc: real data sets go here (srtod/data/README.md)

WORKSPACE = Path(os.environ.get("SRTOD_WORKSPACE", ROOT)).resolve()
_OUT: dict[str, str] = yaml.safe_load(LAYOUT.read_text())["out"]


def output_dir(name: str) -> Path:
    """The workspace folder ``name`` of ``srtod/layout.yaml`` (``prepared``, ``eval``, ``tables``...)."""
    if name not in _OUT:
        raise KeyError(f"{LAYOUT}: no folder {name!r} under `out` (it has {', '.join(_OUT)})")
    return WORKSPACE / _OUT[name]


def stage_out(path: str | Path | None, name: str) -> Path:
    """A stage's output folder: ``path`` as a notebook parameter gives it (``dvc.yaml`` passes
    ``${out.<name>}``; relative to the workspace, since papermill runs in ``notebooks/``), or, when
    empty, :func:`output_dir` ``(name)``."""
    return WORKSPACE / path if path else output_dir(name)


PREPARED = output_dir("prepared")  # output of the prepare stage: what training reads
WORK_DIRS = output_dir("work_dirs")  # checkpoints and logs, one folder per run
RESULTS = output_dir("results")  # metrics, tables, figures, executed notebooks
FIGURES = output_dir("figures")
TABLES = output_dir("tables")


def run_dir(stage: str, run: str, results: Path | None = None) -> Path:
    """A run's outputs of one pipeline stage, ``results/<stage>/<run>`` (``stage``: ``train``
    or ``eval``; the run is ``<experiment>[_s<seed>]``); ``results`` defaults to :data:`RESULTS`."""
    if stage not in ("train", "eval"):
        raise ValueError(f"run_dir: stage must be 'train' or 'eval', got {stage!r}")
    folder = output_dir(stage)
    return (folder if results is None else Path(results) / folder.relative_to(RESULTS)) / run


def study_records() -> Path:
    """The threshold study's committed run records, ``docs/results/threshold_study/records``."""
    return DOCS_RESULTS / "threshold_study" / "records"


def threshold_dir(name: str) -> Path:
    """Where ``srtod threshold`` writes a model's threshold curve, ``results/threshold/<name>``."""
    return output_dir("threshold") / name


def work_dir(run: str) -> Path:
    """A run's checkpoints and logs, ``work_dirs/<run>``."""
    return WORK_DIRS / run


def portable(path: str | Path) -> str:
    """``path`` as results record it: relative to the workspace (else to the repository) when it
    lies inside, so that the same data gives the same bytes in every clone; else as given."""
    p = Path(path)
    if not p.is_absolute():
        return str(path)
    for candidate in (Path(os.path.abspath(p)), p.resolve()):
        for base in (WORKSPACE, ROOT):
            if candidate.is_relative_to(base):
                return str(candidate.relative_to(base))
    return str(path)


def repo_commit(short: bool = True) -> str | None:
    """The repository's HEAD commit (what a record or an export was made with); None outside a
    git checkout."""
    cmd = ["git", "-C", str(ROOT), "rev-parse", *(["--short"] if short else []), "HEAD"]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
