"""srtod: SR-TOD (Cao et al., "Visible and Clear: Finding Tiny Objects in Difference Map", ECCV 2024).

Importing ``srtod`` does no work (``srtod.Detector``, the detection API of :mod:`srtod.predictor`,
and ``srtod.SliceConfig`` of :mod:`srtod.sliced_inference` are imported on first use); ``import srtod.models`` registers the SR-TOD modules in mmdet's
registries (configs do it through ``custom_imports``).
"""

import os

# OpenMP threads that spin while waiting starve each other when another process shares the cores
# (measured here: a 12 ms backbone pass took 870 ms); passive waiting costs nothing when alone.
# Effective when srtod is imported before torch, as the notebooks and commands do.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The numeric contract (srtod.numerics): the same bits on every AVX2 machine unless
# SRTOD_NUMERICS=native. Its variables must be set before torch computes anything.
from . import numerics as _numerics  # noqa: E402

_numerics.apply_environment()

# A third-party warning that a user cannot act on, silenced by its message (srtod.quiet)
from . import quiet as _quiet  # noqa: E402

_quiet.silence_known_warnings()

__version__ = "0.1.0"

#: Names importable from ``srtod`` without importing torch or mmdet until first used.
_LAZY = {"Detector": "srtod.predictor", "SliceConfig": "srtod.sliced_inference",
         "Prediction": "srtod.inference"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'srtod' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
