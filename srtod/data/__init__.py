"""Data sets of srtod: the synthetic anti-UAV generator, DroneSwarms, AI-TOD, VisDrone2019.

``import srtod.data`` (or ``custom_imports=dict(imports=['srtod.data'])`` in a config) registers
the mmdet dataset classes of :mod:`srtod.data.datasets` whenever mmdet is installed. The generator,
converter, validator and statistics need only numpy/OpenCV/Pillow and work without mmdet.
"""

from __future__ import annotations

import importlib.util

from .catalog import CATALOG, DatasetInfo, get_dataset_info, list_datasets
from .cocoio import DataError

__all__ = ["CATALOG", "DataError", "DatasetInfo", "get_dataset_info", "list_datasets",
           "register_datasets"]


def register_datasets() -> None:
    """Register DroneSwarmsDataset, AITODDataset and VisDroneDataset in mmdet's DATASETS."""
    from . import datasets  # noqa: F401


def _mmdet_installed() -> bool:
    try:
        return importlib.util.find_spec("mmdet") is not None
    except (ImportError, ValueError):  # a broken or deliberately blocked installation
        return False


if _mmdet_installed():
    register_datasets()
