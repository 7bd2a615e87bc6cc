"""Object-size statistics of COCO data sets, in the size buckets of AI-TOD.

AI-TOD (Wang et al., ICPR 2020; used by SR-TOD, Sec. 1 and 4.1) names objects by absolute size:
very tiny 2-8 px, tiny 8-16 px, small 16-32 px, medium >= 32 px, with size = sqrt(area). As a
partition: ``size < 8`` very tiny, ``8 <= size < 16`` tiny, ``16 <= size < 32`` small, else medium,
i.e. areas [0, 8^2), [8^2, 16^2), [16^2, 32^2), [32^2, inf) -- the area ranges of the AI-TOD
evaluation ([0, 8^2], [8^2, 16^2], ...), with each boundary value assigned to the larger bucket.
Areas are the annotations' ``area`` (the box area for srtod's own files), falling back to w*h.
Crowd / ignored regions (``iscrowd=1``) are counted apart, not as objects.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.protocols import aitod_side_buckets
from ..paths import portable
from .catalog import SPLITS
from .cocoio import load_coco

#: (name, lower, upper) bounds of sqrt(area) in px
SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = tuple(
    (name.replace(" ", "_"), lo, hi) for _, name, lo, hi in aitod_side_buckets())


def size_bucket(size: float) -> str:
    """AI-TOD bucket of an object of size ``size`` = sqrt(area) px."""
    for name, lo, hi in SIZE_BUCKETS:
        if lo <= size < hi:
            return name
    return SIZE_BUCKETS[-1][0]


def _area(ann: dict) -> float:
    area = ann.get("area")
    if isinstance(area, (int, float)) and not isinstance(area, bool) and area >= 0:
        return float(area)
    return float(ann["bbox"][2]) * float(ann["bbox"][3])


def object_records(ann_file: str | Path, split: str | None = None) -> list[dict[str, Any]]:
    """One dict per object (crowd regions excluded): split, image and annotation ids, file name,
    category, box, area, size = sqrt(area) and AI-TOD bucket."""
    return _records(load_coco(ann_file), split or Path(ann_file).stem)


def _records(data: dict, split: str) -> list[dict[str, Any]]:
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {im["id"]: im.get("file_name") for im in data["images"]}
    rows = []
    for ann in data["annotations"]:
        if ann.get("iscrowd"):
            continue
        area = _area(ann)
        size = math.sqrt(area)
        x, y, w, h = (float(v) for v in ann["bbox"])
        rows.append({"split": split, "image_id": ann["image_id"],
                     "file_name": files.get(ann["image_id"]), "ann_id": ann["id"],
                     "category": names.get(ann["category_id"], str(ann["category_id"])),
                     "x": x, "y": y, "w": w, "h": h, "area": area, "size": size,
                     "bucket": size_bucket(size)})
    return rows


def object_table(ann_files: str | Path | Mapping[str, str | Path]):
    """Per-object ``pandas.DataFrame`` (columns of :func:`object_records`) of one json or of
    ``{split: json}``; pandas is imported only here."""
    import pandas as pd

    if isinstance(ann_files, Mapping):
        rows = [r for split, f in ann_files.items() for r in object_records(f, split)]
    else:
        rows = object_records(ann_files)
    columns = ["split", "image_id", "file_name", "ann_id", "category", "x", "y", "w", "h", "area",
               "size", "bucket"]
    return pd.DataFrame(rows, columns=columns)


def dataset_stats(ann_file: str | Path) -> dict[str, Any]:
    """Statistics of one split: images, instances (non-crowd), crowd annotations, instances per image
    (mean, max), empty images, object size sqrt(area) (mean, median, min, max), AI-TOD bucket
    counts and fractions, instances per class, image sizes."""
    data = load_coco(ann_file)
    records = _records(data, Path(ann_file).stem)
    sizes = np.array([r["size"] for r in records], dtype=np.float64)
    per_image = Counter(r["image_id"] for r in records)
    n_images = len(data["images"])
    buckets = Counter(r["bucket"] for r in records)
    n = len(records)

    def stat(fn) -> float | None:
        return round(float(fn(sizes)), 3) if n else None

    return {
        "ann_file": portable(ann_file),
        "images": n_images,
        "instances": n,
        "crowd_annotations": sum(1 for a in data["annotations"] if a.get("iscrowd")),
        "instances_per_image": round(n / n_images, 3) if n_images else 0.0,
        "max_instances_per_image": max(per_image.values(), default=0),
        "empty_images": n_images - len(per_image),
        "mean_size": stat(np.mean),
        "median_size": stat(np.median),
        "min_size": stat(np.min),
        "max_size": stat(np.max),
        "size_buckets": {name: buckets.get(name, 0) for name, _, _ in SIZE_BUCKETS},
        "size_bucket_fractions": {name: round(buckets.get(name, 0) / n, 4) if n else 0.0
                                  for name, _, _ in SIZE_BUCKETS},
        "per_class": dict(sorted(Counter(r["category"] for r in records).items())),
        "image_sizes": {f"{w}x{h}": c for (w, h), c in sorted(Counter(
            (im.get("width"), im.get("height")) for im in data["images"]).items(),
            key=lambda kv: -kv[1])},
    }


def split_stats(ann_files: Mapping[str, str | Path]) -> dict[str, dict[str, Any]]:
    """:func:`dataset_stats` of each split of ``{split: json}``."""
    return {split: dataset_stats(path) for split, path in ann_files.items()}


def find_splits(root: str | Path) -> dict[str, Path]:
    """``{split: <root>/annotations/<split>.json}`` for the plain split files under ``root``
    (reports and fixed copies, whose names contain a dot, are skipped)."""
    ann_dir = Path(root) / "annotations"
    found = {p.stem: p for p in ann_dir.glob("*.json") if "." not in p.stem}
    order = {s: i for i, s in enumerate(SPLITS)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def format_stats(stats: Mapping[str, Mapping[str, Any]]) -> str:
    """A text table (one row per split) of :func:`split_stats` output."""
    head = (f"{'split':<8}{'images':>8}{'objects':>9}{'obj/img':>9}{'mean px':>9}{'median':>8}"
            f"{'vt<8':>8}{'t8-16':>8}{'s16-32':>8}{'m>=32':>8}")
    lines = [head, "-" * len(head)]
    for split, s in stats.items():
        b = s["size_buckets"]

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        lines.append(f"{split:<8}{s['images']:>8}{s['instances']:>9}"
                     f"{s['instances_per_image']:>9.2f}{fmt(s['mean_size']):>9}"
                     f"{fmt(s['median_size']):>8}{b['very_tiny']:>8}{b['tiny']:>8}{b['small']:>8}"
                     f"{b['medium']:>8}")
    return "\n".join(lines)
