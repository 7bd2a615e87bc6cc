"""Registry of the data sets srtod knows: classes, mmdet dataset class, layout.

The class names (in label order) live here and only here: the dataset classes' ``METAINFO``
(:mod:`srtod.data.datasets`), the VisDrone converter and the configs' ``num_classes`` (each data-set
base ``srtod/configs/_base_/datasets/<name>.py`` reads it from here) all use them. Everything the
model and training take per data set (input size, anchor scale, initial DGFE threshold, detections
per image; paper Sec. 4.1 and the official code) is written in that data-set base, not here. This
module needs neither mmdet nor mmengine.

Expected layout (everything relative to the repository root; the mmdet configs in
``srtod/configs/_base_/datasets/<name>.py`` read exactly these paths)::

    data/synthetic/                      made by `python -m srtod generate` (no download)
        images/{train,val,test}/*.jpg
        annotations/{train,val,test}.json
    data/raw/droneswarms/                DroneSwarms (paper), COCO json, one class 'drone'
        images/{train,val,test}/*.jpg
        annotations/{train,val,test}.json
    data/raw/aitod/                      AI-TOD v1 (Wang et al., ICPR 2020), COCO json, 8 classes
        images/{train,val,test}/*.png
        annotations/{train,val,test}.json   (the released aitod_<split>_v1.json, renamed or linked)
    data/raw/coco/                       any COCO-format data set (or --data-root DIR): the
        images/{train,val,test}/*          classes are the categories of annotations/train.json,
        annotations/{train,val,test}.json  in id order
    data/raw/visdrone/                   VisDrone2019-DET as downloaded ...
        VisDrone2019-DET-train/{images,annotations}/     (one txt per image)
        VisDrone2019-DET-val/{images,annotations}/
        VisDrone2019-DET-test-dev/{images,annotations}/
        annotations/{train,val,test}.json    ... plus these, written by `python -m srtod convert`
        images/{train,val,test}             ... symlinks to VisDrone2019-DET-<split>/images

A split the data set does not ship (e.g. a ``val`` split) may be a link to another split's files.
See ``srtod/data/README.md`` for details.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from .cocoio import DataError, load_coco

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """One data set of the catalog.

    Attributes:
        name: catalog key (``synthetic``, ``droneswarms``, ``aitod``, ``visdrone``).
        dataset_type: registered mmdet dataset class (see :mod:`srtod.data.datasets`).
        classes: class names, in label order (names must match the json categories); empty
            for ``coco``, any COCO-format data set, whose classes are its json's categories
            (:func:`annotation_classes`).
        palette: one RGB colour per class, for visualisation.
        data_root: folder with ``images/<split>/`` and ``annotations/<split>.json``.
        source_format: ``generated``, ``coco`` or ``visdrone`` (txt, needs ``srtod convert``).
        description: one line, with the reference.
    """

    name: str
    dataset_type: str
    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    data_root: str
    source_format: str
    description: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def ann_file(self, split: str) -> str:
        """Annotation file of ``split``, relative to the repository root."""
        return f"{self.data_root}annotations/{split}.json"

    def img_dir(self, split: str) -> str:
        """Image folder of ``split``, relative to the repository root."""
        return f"{self.data_root}images/{split}/"

    @property
    def metainfo(self) -> dict:
        """mmdet ``METAINFO`` (classes and palette)."""
        return {"classes": self.classes, "palette": list(self.palette)}


DRONE_CLASSES = ("drone",)
AITOD_CLASSES = ("airplane", "bridge", "storage-tank", "ship", "swimming-pool", "vehicle", "person",
                 "wind-mill")
#: VisDrone2019-DET categories 1..10 (0 = ignored regions, 11 = others are not classes).
VISDRONE_CLASSES = ("pedestrian", "people", "bicycle", "car", "van", "truck", "tricycle",
                    "awning-tricycle", "bus", "motor")

_DRONE_PALETTE = ((220, 20, 60),)
_AITOD_PALETTE = ((220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230), (106, 0, 228),
                  (0, 60, 100), (0, 80, 100), (0, 0, 70))
_VISDRONE_PALETTE = ((220, 20, 60), (255, 128, 0), (119, 11, 32), (0, 0, 142), (0, 0, 230),
                     (106, 0, 228), (0, 60, 100), (0, 80, 100), (0, 0, 70), (250, 170, 30))

CATALOG: dict[str, DatasetInfo] = {
    "synthetic": DatasetInfo(
        name="synthetic", dataset_type="DroneSwarmsDataset", classes=DRONE_CLASSES,
        palette=_DRONE_PALETTE, data_root="data/synthetic/", source_format="generated",
        description="procedural anti-UAV swarms modelled on DroneSwarms (srtod.data.synthetic)"),
    "droneswarms": DatasetInfo(
        name="droneswarms", dataset_type="DroneSwarmsDataset", classes=DRONE_CLASSES,
        palette=_DRONE_PALETTE, data_root="data/raw/droneswarms/", source_format="coco",
        description="DroneSwarms anti-UAV set, mean object size ~7.9 px (Cao et al., ECCV 2024)"),
    "aitod": DatasetInfo(
        name="aitod", dataset_type="AITODDataset", classes=AITOD_CLASSES, palette=_AITOD_PALETTE,
        data_root="data/raw/aitod/", source_format="coco",
        description="AI-TOD v1, 8 classes of tiny objects in aerial images (Wang et al., ICPR 2020)"),
    "visdrone": DatasetInfo(
        name="visdrone", dataset_type="VisDroneDataset", classes=VISDRONE_CLASSES,
        palette=_VISDRONE_PALETTE, data_root="data/raw/visdrone/", source_format="visdrone",
        description="VisDrone2019-DET, 10 classes seen from drones (Du et al., ICCVW 2019)"),
    "coco": DatasetInfo(
        name="coco", dataset_type="CocoDataset", classes=(), palette=(),
        data_root="data/raw/coco/", source_format="coco",
        description="any COCO-format data set: its classes are read from annotations/train.json"),
}


def list_datasets() -> list[str]:
    """Names of the catalog."""
    return list(CATALOG)


def get_dataset_info(name: str) -> DatasetInfo:
    """The catalog entry ``name`` (case-insensitive); unknown names list the known ones."""
    key = name.strip().lower()
    if key not in CATALOG:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(CATALOG)}")
    return CATALOG[key]


def annotation_classes(ann_file: str | Path) -> tuple[str, ...]:
    """The category names of a COCO json, in id order (the label order mmdet gives them).

    Raises:
        DataError: the file is missing or unreadable, or its ``categories`` are empty or lack
            ``id``/``name`` (the message names the file).
    """
    path = Path(ann_file)
    if not path.is_file():
        raise DataError(f"{path}: annotation file not found (the classes are read from it)")
    stat = path.stat()
    return _annotation_classes(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _annotation_classes(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    categories = load_coco(path)["categories"]
    if not categories:
        raise DataError(f"{path}: field 'categories' is empty")
    try:
        return tuple(c["name"] for c in sorted(categories, key=lambda c: c["id"]))
    except (KeyError, TypeError) as err:
        raise DataError(f"{path}: every entry of 'categories' needs an 'id' and a 'name'") from err
