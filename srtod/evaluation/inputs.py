"""Load and check COCO ground truth and COCO results (detections) before evaluation.

Every problem raises :class:`EvaluationInputError` with a message naming the source (file name
or ``<dict>``), the record and the field, e.g. ``dets.json: detection #12: 'bbox' must be 4
numbers [x, y, w, h], got 3``. Checks are vectorised; the record-by-record scan only runs to
locate an error.

Semantics follow pycocotools: boxes are ``[x, y, w, h]`` in pixels; the ground truth's ``area``
field decides its size bucket (missing ``area`` falls back to ``w * h``, as mmdet's converted
ground truth does); ``iscrowd=1`` marks a crowd/ignore region (matched detections are ignored,
IoU against it is intersection over detection area). A separate ``ignore`` field is *not* used,
because pycocotools overwrites it with ``iscrowd``. A detection's area is ``w * h``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cocoio import DataError, load_json

GtLike = str | os.PathLike | Mapping[str, Any]
DetsLike = str | os.PathLike | Sequence[Mapping[str, Any]]


class EvaluationInputError(DataError, ValueError):
    """Malformed ground truth or detections; the message names the source, record and field (a
    :class:`~srtod.data.cocoio.DataError`, so commands report it as any bad input)."""


@dataclass
class GroundTruth:
    """Checked ground truth: sorted image/category ids and engine-ready annotation dicts."""

    source: str
    img_ids: np.ndarray  # (I,) int64, sorted
    cat_ids: np.ndarray  # (K,) int64, sorted
    cat_names: list[str]  # names in cat_ids order
    images: list[dict]  # [{"id": int}] in img_ids order
    categories: list[dict]  # [{"id": int, "name": str}] in cat_ids order
    annotations: list[dict]  # id, image_id, category_id, bbox, area, iscrowd
    file_cat_ids: list[int]  # category ids in the file's order (mmdet's label order)


@dataclass
class Detections:
    """Checked detections as parallel arrays (input order preserved)."""

    source: str
    image_id: np.ndarray  # (N,) int64
    category_id: np.ndarray  # (N,) int64
    score: np.ndarray  # (N,) float64
    bbox: np.ndarray  # (N, 4) float64, xywh

    def __len__(self) -> int:
        return len(self.score)


def _source_name(obj: Any, default: str) -> str:
    return Path(obj).name if isinstance(obj, str | os.PathLike) else default


def _read_json(path: str | os.PathLike, what: str) -> Any:
    try:
        return load_json(path, what)
    except DataError as err:
        raise EvaluationInputError(str(err)) from None


def _int_ids(values: list, source: str, what: str, field: str) -> np.ndarray:
    """Integer ids from a list of JSON values (integral floats accepted, as json loaders do)."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iuf"):
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float | np.number):
                raise EvaluationInputError(
                    f"{source}: {what} #{i}: {field!r} must be an integer, got {v!r}"
                )
        raise EvaluationInputError(f"{source}: {what} {field!r} values must be integers")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EvaluationInputError(
                f"{source}: {what} #{i}: {field!r} must be an integer, got {values[i]!r}"
            )
    return arr.astype(np.int64)


def _fetch(records: Sequence, key: str, source: str, what: str, default: Any = ...) -> list:
    """``[r[key] for r in records]`` with an error naming the first record lacking ``key``."""
    try:
        if default is ...:
            return [r[key] for r in records]
        return [r.get(key, default) for r in records]
    except (KeyError, TypeError, AttributeError):
        for i, r in enumerate(records):
            if not isinstance(r, Mapping):
                raise EvaluationInputError(
                    f"{source}: {what} #{i} must be a JSON object, got {type(r).__name__}"
                ) from None
            if default is ... and key not in r:
                raise EvaluationInputError(
                    f"{source}: {what} #{i}: missing field {key!r}"
                ) from None
        raise


def _numbers(values: list, source: str, what: str, field: str) -> np.ndarray:
    """Finite floats from a list of JSON numbers."""
    try:
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError
    except (TypeError, ValueError):
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float | np.number):
                raise EvaluationInputError(
                    f"{source}: {what} #{i}: {field!r} must be a number, got {v!r}"
                ) from None
        raise
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EvaluationInputError(
            f"{source}: {what} #{i}: {field!r} must be a finite number, got {values[i]!r}"
        )
    return arr


def _boxes(values: list, source: str, what: str) -> np.ndarray:
    """(N, 4) float64 xywh boxes with finite values and non-negative width/height."""
    arr = None
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    if arr is None or arr.ndim != 2 or arr.shape[1] != 4:
        if not values:
            return np.zeros((0, 4))
        for i, b in enumerate(values):
            if not isinstance(b, list | tuple | np.ndarray):
                raise EvaluationInputError(
                    f"{source}: {what} #{i}: 'bbox' must be 4 numbers [x, y, w, h], got {b!r}"
                )
            if len(b) != 4:
                raise EvaluationInputError(
                    f"{source}: {what} #{i}: 'bbox' must be 4 numbers [x, y, w, h], got {len(b)}"
                )
            for v in b:
                if isinstance(v, bool) or not isinstance(v, int | float | np.number):
                    raise EvaluationInputError(
                        f"{source}: {what} #{i}: 'bbox' must hold numbers, got {b!r}"
                    )
        raise EvaluationInputError(f"{source}: 'bbox' fields could not be read as numbers")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EvaluationInputError(
            f"{source}: {what} #{i}: 'bbox' must hold finite numbers, got {values[i]!r}"
        )
    bad = (arr[:, 2] < 0) | (arr[:, 3] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EvaluationInputError(
            f"{source}: {what} #{i}: 'bbox' width and height must be >= 0 "
            f"([x, y, w, h]), got {values[i]!r}"
        )
    return arr


def _list_field(data: Mapping, key: str, source: str, required: bool = True) -> list:
    if key not in data:
        if required:
            raise EvaluationInputError(f"{source}: missing top-level field {key!r}")
        return []
    value = data[key]
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise EvaluationInputError(
            f"{source}: top-level field {key!r} must be a list, got {type(value).__name__}"
        )
    return value


def _unique(ids: np.ndarray, source: str, what: str) -> None:
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise EvaluationInputError(f"{source}: duplicate {what} id {int(uniq[counts > 1][0])}")


def load_ground_truth(gt: GtLike, source: str | None = None) -> GroundTruth:
    """Read (if a path) and check a COCO ground-truth dataset; the input is not modified."""
    source = source or _source_name(gt, "<ground truth>")
    data = _read_json(gt, "ground-truth") if isinstance(gt, str | os.PathLike) else gt
    if not isinstance(data, Mapping):
        raise EvaluationInputError(
            f"{source}: expected a COCO ground-truth object with 'images', 'annotations' and "
            f"'categories', got a JSON {type(data).__name__}"
        )
    images = _list_field(data, "images", source)
    categories = _list_field(data, "categories", source)
    anns = _list_field(data, "annotations", source, required=False)
    if not images:
        raise EvaluationInputError(f"{source}: 'images' is empty")
    if not categories:
        raise EvaluationInputError(f"{source}: 'categories' is empty")

    img_ids = _int_ids(_fetch(images, "id", source, "image"), source, "image", "id")
    _unique(img_ids, source, "image")
    cat_ids = _int_ids(_fetch(categories, "id", source, "category"), source, "category", "id")
    _unique(cat_ids, source, "category")
    raw_names = _fetch(categories, "name", source, "category", default=None)
    names = [
        str(c) if n is None else str(n) for n, c in zip(raw_names, cat_ids.tolist(), strict=True)
    ]

    what = "annotation"
    a_img = _int_ids(_fetch(anns, "image_id", source, what), source, what, "image_id")
    a_cat = _int_ids(_fetch(anns, "category_id", source, what), source, what, "category_id")
    boxes = _boxes(_fetch(anns, "bbox", source, what), source, what)
    areas_raw = _fetch(anns, "area", source, what, default=None)
    crowd = _fetch(anns, "iscrowd", source, what, default=0)
    _check_membership(a_img, img_ids, source, what, "image_id", "'images'")
    _check_membership(a_cat, cat_ids, source, what, "category_id", "'categories'")
    missing = np.array([a is None for a in areas_raw], dtype=bool)
    areas = boxes[:, 2] * boxes[:, 3]
    if (~missing).any():
        given = [a for a in areas_raw if a is not None]
        areas[~missing] = _numbers(given, source, what, "area")
    crowd_arr = _int_ids(crowd, source, what, "iscrowd") if crowd else np.zeros(0, np.int64)
    bad = (crowd_arr != 0) & (crowd_arr != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EvaluationInputError(f"{source}: {what} #{i}: 'iscrowd' must be 0 or 1")

    order_i = np.argsort(img_ids, kind="stable")
    order_c = np.argsort(cat_ids, kind="stable")
    box_list = boxes.tolist()
    annotations = [
        {"id": j + 1, "image_id": i, "category_id": c, "bbox": b, "area": a, "iscrowd": z}
        for j, (i, c, b, a, z) in enumerate(
            zip(
                a_img.tolist(),
                a_cat.tolist(),
                box_list,
                areas.tolist(),
                crowd_arr.tolist(),
                strict=True,
            )
        )
    ]
    return GroundTruth(
        source=source,
        img_ids=img_ids[order_i],
        cat_ids=cat_ids[order_c],
        cat_names=[names[k] for k in order_c],
        images=[{"id": int(i)} for i in img_ids[order_i]],
        categories=[{"id": int(cat_ids[k]), "name": names[k]} for k in order_c],
        annotations=annotations,
        file_cat_ids=cat_ids.tolist(),
    )


def _check_membership(
    ids: np.ndarray, valid: np.ndarray, source: str, what: str, field: str, where: str
) -> None:
    bad = ~np.isin(ids, valid)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EvaluationInputError(
            f"{source}: {what} #{i}: {field}={int(ids[i])} is not in the ground truth's {where}"
        )


def load_detections(dets: DetsLike, gt: GroundTruth, source: str | None = None) -> Detections:
    """Read (if a path) and check COCO results: a list of ``{image_id, category_id, bbox, score}``.

    Every ``image_id`` must be a ground-truth image and every ``category_id`` a ground-truth
    category (pycocotools asserts the former and silently drops the latter).
    """
    source = source or _source_name(dets, "<detections>")
    data = _read_json(dets, "detections") if isinstance(dets, str | os.PathLike) else dets
    if isinstance(data, Mapping):
        raise EvaluationInputError(
            f"{source}: expected a JSON list of detections (COCO results format: "
            "[{image_id, category_id, bbox, score}, ...]), got a JSON object"
        )
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise EvaluationInputError(
            f"{source}: expected a list of detections, got {type(data).__name__}"
        )
    what = "detection"
    img = _int_ids(_fetch(data, "image_id", source, what), source, what, "image_id")
    cat = _int_ids(_fetch(data, "category_id", source, what), source, what, "category_id")
    box = _boxes(_fetch(data, "bbox", source, what), source, what)
    score = _numbers(_fetch(data, "score", source, what), source, what, "score")
    return check_detections(img, cat, box, score, gt, source)


def check_detections(
    image_id: np.ndarray,
    category_id: np.ndarray,
    bbox: np.ndarray,
    score: np.ndarray,
    gt: GroundTruth,
    source: str = "<detections>",
) -> Detections:
    """Detections from parallel arrays (``bbox`` as ``[x, y, w, h]``), checked against ``gt``."""
    what = "detection"
    img = np.asarray(image_id, dtype=np.int64).reshape(-1)
    cat = np.asarray(category_id, dtype=np.int64).reshape(-1)
    box = np.asarray(bbox, dtype=np.float64).reshape(-1, 4)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    if not len(img) == len(cat) == len(box) == len(score):
        raise EvaluationInputError(
            f"{source}: image_id, category_id, bbox and score differ in length"
        )
    for name, bad in (
        ("bbox", ~np.isfinite(box).all(axis=1)),
        ("score", ~np.isfinite(score)),
        ("bbox", (box[:, 2] < 0) | (box[:, 3] < 0)),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EvaluationInputError(
                f"{source}: {what} #{i}: {name!r} must be finite (and w, h >= 0), got "
                f"{box[i].tolist() if name == 'bbox' else float(score[i])}"
            )
    _check_membership(img, gt.img_ids, source, what, "image_id", f"images ({gt.source})")
    _check_membership(cat, gt.cat_ids, source, what, "category_id", f"categories ({gt.source})")
    return Detections(source=source, image_id=img, category_id=cat, score=score, bbox=box)
