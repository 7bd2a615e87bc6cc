"""mmdet dataset classes of the catalog (:mod:`srtod.data.catalog`), all COCO-format.

They differ from mmdet's ``CocoDataset`` only in ``METAINFO`` (classes, in label order, and a
palette); category names in the json must match the classes. ``iscrowd=1`` annotations (VisDrone
ignored regions and score-0 boxes, see :mod:`srtod.data.visdrone`) load with ``ignore_flag=1``, so
they are neither positives nor negatives in training. Importing this module needs mmdet;
``import srtod.data`` imports it when mmdet is installed.
"""

from __future__ import annotations

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

from .catalog import get_dataset_info


@DATASETS.register_module()
class DroneSwarmsDataset(CocoDataset):
    """DroneSwarms (Cao et al., ECCV 2024) and the synthetic anti-UAV set: one class, drone."""

    METAINFO = get_dataset_info("droneswarms").metainfo


@DATASETS.register_module()
class AITODDataset(CocoDataset):
    """AI-TOD v1 (Wang et al., ICPR 2020): 8 classes of tiny objects in aerial images."""

    METAINFO = get_dataset_info("aitod").metainfo


@DATASETS.register_module()
class VisDroneDataset(CocoDataset):
    """VisDrone2019-DET converted to COCO (10 classes; ignored regions as iscrowd=1)."""

    METAINFO = get_dataset_info("visdrone").metainfo
