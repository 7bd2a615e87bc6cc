"""Seeded random COCO ground truth + detections, for the evaluator tests and `benchmarks/bench_eval.py`.

Ground-truth sides are log-uniform in [1, 128] px so that every AI-TOD bucket is populated, with
some boxes of exactly 8, 16 and 32 px (areas on the inclusive bucket boundaries), some ``area``
fields that differ from ``w * h`` (as with segmentation areas), crowd regions (``iscrowd=1``) and
``ignore=1`` flags (which pycocotools disregards). Detections are jittered copies of ground
truths (sometimes with the wrong class) plus random boxes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def random_detection_problem(
    n_images: int = 50,
    n_classes: int = 4,
    gts_per_image: int = 20,
    dets_per_image: int | tuple[int, int] = 300,
    seed: int = 0,
    image_size: int = 800,
    crowd_fraction: float = 0.05,
    score_decimals: int | None = None,
    empty_class: bool = True,
    empty_image: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return ``(gt, dets)``: a COCO ground-truth dict and a COCO results list.

    ``dets_per_image`` is the number of detections per image (spread over the classes), or a
    ``(low, high)`` range to draw it from uniformly (inclusive); with
    ``empty_class`` the last category has no ground truth (it still gets detections), with
    ``empty_image`` image 1 has no ground truth (it still gets detections) and the last image
    no detections. ``score_decimals`` rounds scores, to create ties.
    """
    rng = np.random.default_rng(seed)
    gt_classes = n_classes - 1 if empty_class and n_classes > 1 else n_classes
    images, anns, dets = [], [], []
    for img_id in range(1, n_images + 1):
        images.append(
            {
                "id": img_id,
                "file_name": f"{img_id:06d}.png",
                "width": image_size,
                "height": image_size,
            }
        )
        n_gt = 0 if (empty_image and img_id == 1) else int(rng.integers(0, 2 * gts_per_image + 1))
        side = np.exp(rng.uniform(0.0, np.log(128.0), size=(n_gt, 2)))
        snap = rng.random(n_gt) < 0.1
        side[snap] = rng.choice([8.0, 16.0, 32.0], size=(int(snap.sum()), 1))
        xy = rng.uniform(0, image_size - side)
        cls = rng.integers(1, gt_classes + 1, size=n_gt)
        crowd = rng.random(n_gt) < crowd_fraction
        ignore = ~crowd & (rng.random(n_gt) < 0.05)
        area = side[:, 0] * side[:, 1]
        odd_area = rng.random(n_gt) < 0.1
        area[odd_area] *= rng.uniform(0.5, 1.0, size=int(odd_area.sum()))
        for j in range(n_gt):
            ann = {
                "id": len(anns) + 1,
                "image_id": img_id,
                "category_id": int(cls[j]),
                "bbox": [float(xy[j, 0]), float(xy[j, 1]), float(side[j, 0]), float(side[j, 1])],
                "area": float(area[j]),
                "iscrowd": int(crowd[j]),
            }
            if ignore[j]:
                ann["ignore"] = 1
            anns.append(ann)

        if empty_image and img_id == n_images:
            continue
        if isinstance(dets_per_image, tuple | list):
            n_det = int(rng.integers(dets_per_image[0], dets_per_image[1] + 1))
        else:
            n_det = int(dets_per_image)
        n_tp = min(n_det, int(rng.integers(0, 3 * n_gt + 1))) if n_gt else 0
        src = rng.integers(0, n_gt, size=n_tp) if n_gt else np.zeros(0, dtype=int)
        jitter = rng.normal(0.0, 0.08, size=(n_tp, 4)) * np.repeat(side[src], 2, axis=1)
        tp_boxes = np.concatenate([xy[src], side[src]], axis=1) + jitter
        tp_boxes[:, 2:] = np.abs(tp_boxes[:, 2:]) + 0.5
        tp_cls = np.where(rng.random(n_tp) < 0.9, cls[src], rng.integers(1, n_classes + 1, n_tp))
        n_fp = n_det - n_tp
        fp_side = np.exp(rng.uniform(0.0, np.log(128.0), size=(n_fp, 2)))
        fp_boxes = np.concatenate([rng.uniform(0, image_size - fp_side), fp_side], axis=1)
        fp_cls = rng.integers(1, n_classes + 1, size=n_fp)
        boxes = np.concatenate([tp_boxes, fp_boxes])
        classes = np.concatenate([tp_cls, fp_cls])
        scores = np.concatenate([rng.uniform(0.3, 1.0, n_tp), rng.uniform(0.0, 0.8, n_fp)])
        if score_decimals is not None:
            scores = np.round(scores, score_decimals)
        for b, c, s in zip(boxes.tolist(), classes.tolist(), scores.tolist(), strict=True):
            dets.append({"image_id": img_id, "category_id": int(c), "bbox": b, "score": s})
    categories = [{"id": c, "name": f"class{c}"} for c in range(1, n_classes + 1)]
    return {"images": images, "annotations": anns, "categories": categories}, dets
