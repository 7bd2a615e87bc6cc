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
