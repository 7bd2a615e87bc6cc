"""Evaluate COCO results against COCO ground truth with the AI-TOD, COCO or VisDrone protocol.

Matching and accumulation run in faster-coco-eval's C++ engine (same semantics as pycocotools'
``COCOeval.evaluate`` + ``accumulate``); every reported number is then computed here from the
accumulated arrays, never from ``summarize()``:

* ``precision[T, R, K, A, M]`` -- interpolated precision at IoU threshold T, recall point R,
  category K, area range A, detection limit M; ``recall[T, K, A, M]`` -- final recall;
* a summary value is the mean of the entries ``> -1`` of the relevant slice, as pycocotools'
  ``_summarize`` does. pycocotools marks "no ground truth in this slice" with -1; here such a
  value is ``NaN`` (the raw arrays in the result keep pycocotools' -1).

As in pycocotools, at most ``max(max_dets)`` detections per image *and category* are evaluated
(the highest-scoring ones); the limit ``M`` is applied per image and category as well.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import Detections, DetsLike, GroundTruth, GtLike, load_detections, load_ground_truth
from .protocols import IOU_THRS, REC_THRS, Protocol, get_protocol

EvalResult = dict[str, Any]


def _top_k_per_group(dets: Detections, k: int) -> np.ndarray:
    """Indices (input order) of the ``k`` highest-scoring detections per (image, category).

    Ties keep input order, like pycocotools' stable (mergesort) score sort.
    """
    n = len(dets)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), -dets.score, dets.category_id, dets.image_id))
    img, cat = dets.image_id[order], dets.category_id[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (img[1:] != img[:-1]) | (cat[1:] != cat[:-1])
    starts = np.flatnonzero(new_group)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    keep = np.sort(order[rank < k])
    return keep


def _run_engine(gt: GroundTruth, dets: Detections, protocol: Protocol) -> dict[str, np.ndarray]:
    """faster-coco-eval evaluate + accumulate; returns the raw ``precision/recall/scores``."""
    from faster_coco_eval import COCO, COCOeval_faster

    keep = _top_k_per_group(dets, max(protocol.max_dets))
    boxes = dets.bbox[keep]
    dt_anns = [
        {
            "id": j + 1,
            "image_id": i,
            "category_id": c,
            "bbox": b,
            "score": s,
            "area": a,
            "iscrowd": 0,
        }
        for j, (i, c, b, s, a) in enumerate(
            zip(
                dets.image_id[keep].tolist(),
                dets.category_id[keep].tolist(),
                boxes.tolist(),
                dets.score[keep].tolist(),
                (boxes[:, 2] * boxes[:, 3]).tolist(),
                strict=True,
            )
        )
    ]
    quiet = lambda *args, **kwargs: None  # noqa: E731
    coco_gt = COCO(print_function=quiet)
    coco_gt.dataset = {
        "images": gt.images,
        "categories": gt.categories,
        # the engine writes an "ignore" key into each annotation: hand it copies
        "annotations": [dict(a) for a in gt.annotations],
    }
    coco_gt.createIndex()
    coco_dt = COCO(print_function=quiet)
    coco_dt.dataset = {"images": gt.images, "categories": gt.categories, "annotations": dt_anns}
    coco_dt.createIndex()

    ev = COCOeval_faster(coco_gt, coco_dt, iouType="bbox", print_function=quiet)
    p = ev.params
    p.imgIds = gt.img_ids.tolist()
    p.catIds = gt.cat_ids.tolist()
    p.useCats = 1
    p.iouThrs = IOU_THRS.copy()
    p.recThrs = REC_THRS.copy()
    p.maxDets = list(protocol.max_dets)
    p.areaRng = protocol.area_rng
    p.areaRngLbl = protocol.area_rng_lbl
    ev.evaluate()
    ev.accumulate()
    T, R, K, A, M = (
        len(IOU_THRS),
        len(REC_THRS),
        len(gt.cat_ids),
        len(protocol.ranges),
        len(protocol.max_dets),
    )
    precision = np.asarray(ev.eval["precision"], dtype=np.float64)
    recall = np.asarray(ev.eval["recall"], dtype=np.float64)
    if precision.shape != (T, R, K, A, M) or recall.shape != (T, K, A, M):
        raise RuntimeError(
            f"unexpected faster-coco-eval output shapes {precision.shape}, {recall.shape}"
        )
    return {
        "precision": precision,
        "recall": recall,
        "scores": np.asarray(ev.eval["scores"], dtype=np.float64),
    }


def _mean_valid(x: np.ndarray) -> float:
    """Mean of the entries > -1 (pycocotools' ``_summarize``), NaN when there are none."""
    valid = x[x > -1]
    return float(valid.mean()) if valid.size else float("nan")


def summarize_arrays(
    precision: np.ndarray, recall: np.ndarray, protocol: str | Protocol = "aitod"
) -> dict[str, float]:
    """Summary metrics in percent from accumulated ``precision``/``recall`` arrays.

    ``precision`` is ``[T, R, K, A, M]`` and ``recall`` ``[T, K, A, M]`` (pycocotools layout,
    -1 = no ground truth); ``K`` may be 1 to get one category's numbers. NaN = no ground truth.
    """
    proto = get_protocol(protocol)
    m = proto.max_dets.index(proto.ap_max_dets)
    i50 = int(np.flatnonzero(np.isclose(IOU_THRS, 0.5))[0])
    i75 = int(np.flatnonzero(np.isclose(IOU_THRS, 0.75))[0])
    out = {
        "AP": _mean_valid(precision[:, :, :, 0, m]),
        "AP50": _mean_valid(precision[i50, :, :, 0, m]),
        "AP75": _mean_valid(precision[i75, :, :, 0, m]),
    }
    for a, rng in enumerate(proto.ranges[1:], start=1):
        out[f"AP{rng.key}"] = _mean_valid(precision[:, :, :, a, m])
    for j, n in enumerate(proto.max_dets):
        out[f"AR@{n}"] = _mean_valid(recall[:, :, 0, j])
    for a, rng in enumerate(proto.ranges[1:], start=1):
        out[f"AR{rng.key}"] = _mean_valid(recall[:, :, a, m])
    return {k: 100.0 * v for k, v in out.items()}


def evaluate_coco(
    gt: GtLike | GroundTruth,
    dets: DetsLike | Detections,
    protocol: str | Protocol = "aitod",
    iou_type: str = "bbox",
) -> EvalResult:
    """Evaluate COCO results ``dets`` against COCO ground truth ``gt``.

    Args:
        gt: ground-truth json path or the loaded dict (``images``, ``annotations``,
            ``categories``) or a checked :class:`~srtod.evaluation.inputs.GroundTruth`; all its
            images and categories are evaluated.
        dets: results json path, list of ``{image_id, category_id, bbox: [x, y, w, h], score}``
            or checked :class:`~srtod.evaluation.inputs.Detections`.
        protocol: ``"aitod"`` (default), ``"coco"``, ``"visdrone"`` or a :class:`Protocol`.
        iou_type: only ``"bbox"`` is supported.

    Returns:
        dict with ``metrics`` (name -> percent, full precision, NaN = no ground truth in the
        bucket; names in ``Protocol.metric_names``), ``per_class`` (class name -> same AP
        metrics), the raw pycocotools-layout arrays ``precision`` ``[T,R,K,A,M]``, ``recall``
        ``[T,K,A,M]`` and ``scores`` (-1 = no ground truth), ``params`` (thresholds, area
        ranges, max_dets, category ids/names) and ``counts``. Inputs are not modified.

    Raises:
        EvaluationInputError: malformed input; the message names the file/record/field.
    """
    if iou_type != "bbox":
        raise ValueError(f"iou_type={iou_type!r} is not supported; only 'bbox' is")
    proto = get_protocol(protocol)
    ground_truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
    detections = dets if isinstance(dets, Detections) else load_detections(dets, ground_truth)
    raw = _run_engine(ground_truth, detections, proto)
    precision, recall = raw["precision"], raw["recall"]

    per_class: dict[str, dict[str, float]] = {}
    for k, name in enumerate(ground_truth.cat_names):
        stats = summarize_arrays(precision[:, :, k : k + 1], recall[:, k : k + 1], proto)
        key = name if name not in per_class else f"{name} (id {int(ground_truth.cat_ids[k])})"
        per_class[key] = {n: v for n, v in stats.items() if n.startswith("AP")}

    n_crowd = sum(a["iscrowd"] for a in ground_truth.annotations)
    return {
        "protocol": proto.name,
        "iou_type": iou_type,
        "metrics": summarize_arrays(precision, recall, proto),
        "per_class": per_class,
        "precision": precision,
        "recall": recall,
        "scores": raw["scores"],
        "params": {
            "iou_thrs": IOU_THRS.tolist(),
            "rec_thrs": REC_THRS.tolist(),
            "area_keys": [r.key for r in proto.ranges],
            "area_labels": proto.area_rng_lbl,
            "area_ranges": proto.area_rng,
            "max_dets": list(proto.max_dets),
            "ap_max_dets": proto.ap_max_dets,
            "cat_ids": ground_truth.cat_ids.tolist(),
            "cat_names": list(ground_truth.cat_names),
        },
        "counts": {
            "images": len(ground_truth.img_ids),
            "categories": len(ground_truth.cat_ids),
            "gt": len(ground_truth.annotations) - n_crowd,
            "gt_crowd": n_crowd,
            "dets": len(detections),
        },
    }


def pr_curves(result: EvalResult, class_name: str | None = None):
    """Precision-recall curves per size bucket from :func:`evaluate_coco`'s result.

    Returns a ``pandas.DataFrame`` with columns ``bucket`` (``all``, ``vt``, ...), ``recall``
    (the 101 points), ``precision_50`` (IoU 0.5) and ``precision_50_95`` (mean over IoU
    0.50:0.95), as fractions in [0, 1], averaged over the categories with ground truth in the
    bucket (or for ``class_name`` only), at the protocol's AP detection limit. NaN = no ground
    truth in the bucket.
    """
    import pandas as pd

    params = result["params"]
    precision = result["precision"]
    m = params["max_dets"].index(params["ap_max_dets"])
    if class_name is not None:
        names = list(result["per_class"])
        if class_name not in names:
            raise KeyError(f"unknown class {class_name!r}; classes: {names}")
        k = names.index(class_name)
        precision = precision[:, :, k : k + 1]
    i50 = int(np.flatnonzero(np.isclose(params["iou_thrs"], 0.5))[0])
    rec = np.asarray(params["rec_thrs"])
    frames = []
    for a, key in enumerate(params["area_keys"]):
        p = precision[:, :, :, a, m]  # T, R, K
        valid = p > -1
        with np.errstate(invalid="ignore", divide="ignore"):
            p50 = np.where(valid[i50], p[i50], 0).sum(axis=1) / valid[i50].sum(axis=1)
            pall = np.where(valid, p, 0).sum(axis=(0, 2)) / valid.sum(axis=(0, 2))
        frames.append(
            pd.DataFrame(
                {"bucket": key, "recall": rec, "precision_50": p50, "precision_50_95": pall}
            )
        )
    return pd.concat(frames, ignore_index=True)
