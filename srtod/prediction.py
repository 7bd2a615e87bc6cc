"""One image's detections, :class:`Prediction`: what ``srtod.Detector`` (PyTorch or ONNX Runtime)
and ``srtod.inference`` return. NumPy only, so an ONNX Runtime deployment needs no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: ``Prediction.maps`` keys filled with ``maps=True``: D (Eq. 3) and D_b (Eq. 4).
MAP_KEYS = ("dmap", "mask")


@dataclass
class Prediction:
    """Detections of one image in original pixel coordinates, plus its SR-TOD maps if recorded."""

    img_id: int
    img_path: str
    bboxes: np.ndarray  # (K, 4) x1, y1, x2, y2
    scores: np.ndarray  # (K,)
    labels: np.ndarray  # (K,) contiguous class indices
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # each (h, w), original size


def to_coco_results(predictions: list[Prediction], cat_ids: list[int]) -> list[dict]:
    """COCO results format: one dict per box, ``bbox`` as x, y, w, h; ``category_id`` the
    ``cat_ids`` entry of the box's class index."""
    results = []
    for p in predictions:
        for (x1, y1, x2, y2), score, label in zip(p.bboxes, p.scores, p.labels, strict=True):
            results.append(dict(image_id=p.img_id, category_id=int(cat_ids[int(label)]),
                                bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                                score=float(score)))
    return results


def matched(ref: Prediction, got: Prediction, box_tol: float = 0.5, score_tol: float = 1e-3
            ) -> tuple[int, float, float]:
    """How many of ``got``'s detections pair one to one with ``ref``'s (same label, every
    coordinate within ``box_tol`` px, score within ``score_tol``; the closest box first), and the
    largest box and score gaps of the pairs: two runs of one detector (PyTorch and ONNX Runtime,
    srtod and SAHI) agree when every detection of both pairs."""
    free = np.ones(len(ref.scores), bool)
    count, box_gap, score_gap = 0, 0.0, 0.0
    for b, s, lab in zip(got.bboxes, got.scores, got.labels, strict=True):
        gap = np.abs(ref.bboxes - b).max(axis=1) if len(ref.scores) else np.zeros(0)
        ok = free & (ref.labels == lab) & (gap <= box_tol) & (np.abs(ref.scores - s) <= score_tol)
        if ok.any():
            j = np.flatnonzero(ok)[np.argmin(gap[ok])]
            free[j] = False
            count += 1
            box_gap, score_gap = max(box_gap, float(gap[j])), max(score_gap,
                                                                  float(abs(ref.scores[j] - s)))
    return count, box_gap, score_gap


__all__ = ["MAP_KEYS", "Prediction", "matched", "to_coco_results"]
