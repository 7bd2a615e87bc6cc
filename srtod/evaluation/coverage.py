"""How well a binary difference mask covers the ground-truth objects (SR-TOD paper, Fig. 1).

The paper's central claim is that the self-reconstruction difference map "lights up" tiny
objects. Given one binary mask per image (e.g. the thresholded difference map, resized to the
image) and the image's ground-truth boxes, this module measures per AI-TOD size bucket:

* ``touched_share``: share of boxes containing at least one mask pixel;
* ``mean_covered_share``: mean over boxes of (mask pixels in the box / box pixels);

and over all images ``background_share``: share of background pixels (outside every ground-truth
box) that the mask covers, i.e. its false-alarm rate. ``mask_share`` is the share of all pixels.

Discretisation: pixel ``(r, c)`` is the unit square ``[c, c+1) x [r, r+1)``; a box
``[x, y, w, h]`` owns the pixels it overlaps with positive area, columns ``floor(x)`` to
``ceil(x + w) - 1`` (at least one), clipped to the image; boxes wholly outside the image are
skipped (``n_outside``). Buckets use sqrt(w * h) with AI-TOD's edges, lower bound inclusive:
very tiny [0, 8), tiny [8, 16), small [16, 32), medium [32, inf) px. Sums over boxes use an
integral image (summed-area table), the union of boxes a 2-D difference array; both vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .protocols import AITOD_BUCKET_KEYS, AITOD_SIDE_EDGES


def box_pixels(boxes: np.ndarray, height: int, width: int) -> tuple[np.ndarray, ...]:
    """Integer pixel extents ``r0, r1, c0, c1`` (end exclusive) of xywh boxes, clipped."""
    x, y, w, h = boxes.T
    c0 = np.floor(x)
    r0 = np.floor(y)
    c1 = np.maximum(np.ceil(x + w), c0 + 1)
    r1 = np.maximum(np.ceil(y + h), r0 + 1)
    c0, c1 = np.clip(c0, 0, width), np.clip(c1, 0, width)
    r0, r1 = np.clip(r0, 0, height), np.clip(r1, 0, height)
    return tuple(v.astype(np.int64) for v in (r0, r1, c0, c1))


def union_mask(extents: tuple[np.ndarray, ...], height: int, width: int) -> np.ndarray:
    """Boolean map of the pixels inside at least one box (2-D difference array)."""
    r0, r1, c0, c1 = extents
    diff = np.zeros((height + 1, width + 1), dtype=np.int32)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1), -1)
    np.add.at(diff, (r1, c0), -1)
    np.add.at(diff, (r1, c1), 1)
    return diff.cumsum(axis=0).cumsum(axis=1)[:height, :width] > 0


def gt_boxes(ann_file) -> dict[int, np.ndarray]:
    """Non-crowd ground-truth boxes ``[x, y, w, h]`` per image id of a COCO json file."""
    import json
    from pathlib import Path

    data = json.loads(Path(ann_file).read_text())
    boxes: dict[int, list] = {}
    for ann in data["annotations"]:
        if not ann.get("iscrowd", 0):
            boxes.setdefault(ann["image_id"], []).append(ann["bbox"])
    return {k: np.asarray(v, dtype=float).reshape(-1, 4) for k, v in boxes.items()}


def difference_map_coverage(
    masks: Sequence[np.ndarray] | np.ndarray,
    gt_boxes_per_image: Sequence[Any],
    side_edges: Sequence[float] = AITOD_SIDE_EDGES,
    bucket_keys: Sequence[str] = AITOD_BUCKET_KEYS,
) -> dict[str, Any]:
    """Coverage of ground-truth boxes (per size bucket) and of background by binary masks.

    Args:
        masks: one ``H x W`` mask per image (bool, or any array: non-zero = on).
        gt_boxes_per_image: per image an ``(n, 4)`` array-like of ``[x, y, w, h]`` boxes in the
            mask's pixel coordinates (may be empty).
        side_edges: bucket edges on sqrt(w * h); ``len(bucket_keys) == len(side_edges) + 1``.
        bucket_keys: bucket names, smallest first.

    Returns:
        ``{"per_bucket": {key: {"n_boxes", "touched_share", "mean_covered_share"}}`` (keys in
        ``bucket_keys`` order plus ``"all"``), ``"background_share"``, ``"mask_share"``,
        ``"n_images"``, ``"n_background_pixels"``, ``"n_outside"``. Shares are fractions in
        [0, 1]; NaN where a bucket has no box (or there is no background).
    """
    if len(bucket_keys) != len(side_edges) + 1:
        raise ValueError("need exactly one more bucket key than side edges")
    if len(masks) != len(gt_boxes_per_image):
        raise ValueError(
            f"got {len(masks)} masks but {len(gt_boxes_per_image)} ground-truth box lists"
        )
    edges = np.asarray(side_edges, dtype=np.float64)
    nb = len(bucket_keys)
    n_boxes = np.zeros(nb, dtype=np.int64)
    n_touched = np.zeros(nb, dtype=np.int64)
    covered_sum = np.zeros(nb, dtype=np.float64)
    bg_pixels = bg_covered = all_pixels = mask_pixels = n_outside = 0

    for i, (mask, boxes) in enumerate(zip(masks, gt_boxes_per_image, strict=True)):
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask #{i} must be 2-D (H x W), got shape {mask.shape}")
        mask = mask != 0
        height, width = mask.shape
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not np.isfinite(boxes).all() or (boxes[:, 2:] < 0).any():
            raise ValueError(f"boxes of image #{i} must be finite [x, y, w, h] with w, h >= 0")

        extents = box_pixels(boxes, height, width)
        r0, r1, c0, c1 = extents
        area_px = (r1 - r0) * (c1 - c0)
        inside = area_px > 0
        n_outside += int((~inside).sum())

        integral = np.zeros((height + 1, width + 1), dtype=np.int64)
        integral[1:, 1:] = mask.cumsum(axis=0, dtype=np.int64).cumsum(axis=1)
        hits = integral[r1, c1] - integral[r0, c1] - integral[r1, c0] + integral[r0, c0]

        side = np.sqrt(boxes[:, 2] * boxes[:, 3])
        bucket = np.searchsorted(edges, side, side="right")[inside]
        hits, area_px = hits[inside], area_px[inside]
        n_boxes += np.bincount(bucket, minlength=nb)
        n_touched += np.bincount(bucket, weights=hits > 0, minlength=nb).astype(np.int64)
        covered_sum += np.bincount(bucket, weights=hits / area_px, minlength=nb)

        background = ~union_mask(extents, height, width)
        bg_pixels += int(background.sum())
        bg_covered += int((mask & background).sum())
        all_pixels += height * width
        mask_pixels += int(integral[-1, -1])

    def share(num: float, den: float) -> float:
        return float(num) / float(den) if den else float("nan")

    per_bucket = {
        key: {
            "n_boxes": int(n_boxes[b]),
            "touched_share": share(n_touched[b], n_boxes[b]),
            "mean_covered_share": share(covered_sum[b], n_boxes[b]),
        }
        for b, key in enumerate(bucket_keys)
    }
    per_bucket["all"] = {
        "n_boxes": int(n_boxes.sum()),
        "touched_share": share(n_touched.sum(), n_boxes.sum()),
        "mean_covered_share": share(covered_sum.sum(), n_boxes.sum()),
    }
    return {
        "per_bucket": per_bucket,
        "background_share": share(bg_covered, bg_pixels),
        "mask_share": share(mask_pixels, all_pixels),
        "n_images": len(masks),
        "n_background_pixels": bg_pixels,
        "n_outside": n_outside,
    }


def coverage_table(coverage: dict[str, Any]):
    """``pandas.DataFrame`` (index: bucket) of :func:`difference_map_coverage`'s ``per_bucket``
    with ``background_share`` and ``mask_share`` as extra columns (same value on every row)."""
    import pandas as pd

    frame = pd.DataFrame.from_dict(coverage["per_bucket"], orient="index")
    frame.index.name = "bucket"
    frame["background_share"] = coverage["background_share"]
    frame["mask_share"] = coverage["mask_share"]
    return frame
