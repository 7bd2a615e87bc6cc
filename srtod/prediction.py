"""One image's detections, :class:`Prediction`: what ``srtod.Detector`` (PyTorch or ONNX Runtime)
and ``srtod.inference`` return. NumPy only, so an ONNX Runtime deployment needs no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Prediction:
    """Detections of one image in original pixel coordinates, plus its SR-TOD maps if recorded."""

    img_id: int
    img_path: str
    bboxes: np.ndarray  # (K, 4) x1, y1, x2, y2
    scores: np.ndarray  # (K,)
    labels: np.ndarray  # (K,) contiguous class indices
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # each (h, w), original size


__all__ = ["Prediction"]
