"""Run an exported detector (``model.onnx`` + ``model.json``, see :mod:`srtod.export`) with ONNX
Runtime, without torch or mmdet: the test pipeline's resize and normalisation in OpenCV/NumPy,
the graph, and boxes and maps back in the original image's pixels.

Glossary: h x w the original image, H x W the exported network input, K detections.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np


def meta_path(onnx_path: str | Path) -> Path:
    """The json written beside an exported graph: ``model.onnx`` -> ``model.json``."""
    return Path(onnx_path).with_suffix(".json")


def _resized_size(h: int, w: int, resize: dict) -> tuple[int, int]:
    """(new_h, new_w) of mmdet's ``Resize`` (mmcv's ``imrescale`` rule with ``keep_ratio``)."""
    sw, sh = resize["scale"]  # mmdet's scale is (w, h)
    if not resize["keep_ratio"]:
        return int(sh), int(sw)
    factor = min(max(sw, sh) / max(h, w), min(sw, sh) / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


class OnnxDetector:
    """An exported graph in an ONNX Runtime session.

    Args:
        onnx_path: ``model.onnx``; its ``model.json`` must lie beside it.
        device: 'cpu' or 'cuda' (CUDAExecutionProvider, when onnxruntime has it); default CPU.
        threads: intra-op threads of the session (default: ONNX Runtime's choice).
    """

    def __init__(self, onnx_path: str | Path, device: str | None = None,
                 threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(onnx_path)
        if not self.path.is_file():
            raise FileNotFoundError(f"ONNX model {self.path} does not exist")
        meta = meta_path(self.path)
        if not meta.is_file():
            raise FileNotFoundError(f"{meta} is missing: an exported model.onnx needs the "
                                    "model.json that `srtod export` writes beside it")
        self.meta = json.loads(meta.read_text())
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if device and device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("device 'cuda' asked for, but this onnxruntime has no "
                                   "CUDAExecutionProvider (install onnxruntime-gpu)")
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(self.path), opts, providers=providers)
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.classes = tuple(self.meta["classes"])
        self.input_size = tuple(self.meta["input_size"])
        self.has_maps = "dmap" in self.outputs
        self._mean = np.asarray(self.meta["mean"], np.float32)
        self._std = np.asarray(self.meta["std"], np.float32)
        self._warned = False

    def preprocess(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
        """(image (1, 3, H, W), image_shape (2,), (w_scale, h_scale)) of a BGR uint8 image."""
        import cv2

        h, w = img.shape[:2]
        nh, nw = _resized_size(h, w, self.meta["resize"])
        div = int(self.meta.get("pad_size_divisor", 1)) or 1
        padded = (-(-nh // div) * div, -(-nw // div) * div)
        H, W = padded if self.meta.get("dynamic") else self.input_size
        if nh > H or nw > W:
            raise ValueError(f"an image of {h} x {w} resizes to {nh} x {nw}, larger than the "
                             f"exported input {H} x {W} (export with --image-size for this shape)")
        if padded != (H, W) and not self._warned:
            self._warned = True
            warnings.warn(f"{self.path}: an image of {h} x {w} is padded to the exported "
                          f"{H} x {W}, where mmdet pads it to {padded[0]} x {padded[1]}: "
                          "detections can differ slightly from PyTorch's near the padding (export "
                          "with --image-size for this shape; docs/deploy.md)", stacklevel=3)
        if (nh, nw) != (h, w):
            img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
        x = img.astype(np.float32)
        if self.meta["bgr_to_rgb"]:
            x = x[..., ::-1]
        x = (x - self._mean) / self._std
        batch = np.full((1, 3, H, W), self.meta.get("pad_value", 0.0), np.float32)
        batch[0, :, :nh, :nw] = x.transpose(2, 0, 1)
        return batch, np.array([nh, nw], np.float32), (nw / w, nh / h)

    def __call__(self, img: np.ndarray, maps: bool = False):
        """Detections on one BGR image: boxes (K, 4) in its pixels, scores (K,), labels (K,) and,
        with ``maps`` on a graph that has them, ``{'dmap': D, 'mask': D_b}`` each (h, w)."""
        import cv2

        batch, shape, (sx, sy) = self.preprocess(img)
        names = self.outputs if maps else self.outputs[:3]
        out = dict(zip(names, self.session.run(names, {"image": batch, "image_shape": shape}),
                       strict=True))
        boxes = out["boxes"].astype(np.float32).reshape(-1, 4) / np.array([sx, sy, sx, sy],
                                                                           np.float32)
        result = {}
        h, w = img.shape[:2]
        nh, nw = int(shape[0]), int(shape[1])
        for key in ("dmap", "mask"):
            if key in out:
                m = out[key][0, 0, :nh, :nw].astype(np.float32)
                if (nh, nw) != (h, w):
                    m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST if key == "mask"
                                   else cv2.INTER_LINEAR)
                result[key] = m
        return (boxes, out["scores"].astype(np.float32).reshape(-1),
                out["labels"].astype(np.int64).reshape(-1), result)


__all__ = ["OnnxDetector", "meta_path"]
