"""Registry of the data sets srtod knows: classes, mmdet dataset class, layout, SR-TOD settings.

The pipeline's data-set switch (``params.yaml: data.name``, see :func:`srtod.config.switch_dataset`)
picks an entry by name. Per-data-set model settings are those of the paper (Cao et al., ECCV 2024,
Sec. 4.1) and of the official code: the initial learnable threshold of the DGFE filtration, in image
intensity units [0, 1] (40/255 DroneSwarms, 4/255 VisDrone2019, 3/255 AI-TOD), and the anchor scale
(2 DroneSwarms; 4 AI-TOD and 6 VisDrone as in RFLA, whose settings the paper follows there).

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

from dataclasses import dataclass

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """One data set of the catalog.

    Attributes:
        name: catalog key (``synthetic``, ``droneswarms``, ``aitod``, ``visdrone``).
        dataset_type: registered mmdet dataset class (see :mod:`srtod.data.datasets`).
        classes: class names, in label order (names must match the json categories).
        palette: one RGB colour per class, for visualisation.
        data_root: folder with ``images/<split>/`` and ``annotations/<split>.json``.
        source_format: ``generated``, ``coco`` or ``visdrone`` (txt, needs ``srtod convert``).
        threshold: paper's initial DGFE threshold t (image intensities in [0, 1]).
        anchor_scale: paper's anchor scale (``scales=[s]`` / ``octave_base_scale=s``).
        description: one line, with the reference.
    """

    name: str
    dataset_type: str
    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    data_root: str
    source_format: str
    threshold: float
    anchor_scale: float
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
        threshold=40 / 255, anchor_scale=2,
        description="procedural anti-UAV swarms modelled on DroneSwarms (srtod.data.synthetic)"),
    "droneswarms": DatasetInfo(
        name="droneswarms", dataset_type="DroneSwarmsDataset", classes=DRONE_CLASSES,
        palette=_DRONE_PALETTE, data_root="data/raw/droneswarms/", source_format="coco",
        threshold=40 / 255, anchor_scale=2,
        description="DroneSwarms anti-UAV set, mean object size ~7.9 px (Cao et al., ECCV 2024)"),
    "aitod": DatasetInfo(
        name="aitod", dataset_type="AITODDataset", classes=AITOD_CLASSES, palette=_AITOD_PALETTE,
        data_root="data/raw/aitod/", source_format="coco", threshold=3 / 255, anchor_scale=4,
        description="AI-TOD v1, 8 classes of tiny objects in aerial images (Wang et al., ICPR 2020)"),
    "visdrone": DatasetInfo(
        name="visdrone", dataset_type="VisDroneDataset", classes=VISDRONE_CLASSES,
        palette=_VISDRONE_PALETTE, data_root="data/raw/visdrone/", source_format="visdrone",
        threshold=4 / 255, anchor_scale=6,
        description="VisDrone2019-DET, 10 classes seen from drones (Du et al., ICCVW 2019)"),
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
