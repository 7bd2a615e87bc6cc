"""Test session set-up shared by tests/ and the notebooks run by nbval.

Everything the pipeline writes goes to a temporary workspace (``SRTOD_WORKSPACE``), so running the
tests never touches a user's data/prepared, results/ or work_dirs/. Set before any srtod import and
inherited by the notebook kernels nbval starts.
"""

import os
import tempfile

os.environ.setdefault("SRTOD_WORKSPACE", tempfile.mkdtemp(prefix="srtod-test-"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see srtod/__init__.py


def pytest_collection_modifyitems(items):
    """Wait up to 60 s for a notebook cell's output messages after its reply (nbval waits a fixed
    5 s): on a busy 2-core machine they once trailed the reply of 04_cost's long cell by more than
    5 s, and nbval failed the cell ("Timeout of 5 seconds exceeded waiting for output") though it
    had run."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = max(item.output_timeout, 60)
