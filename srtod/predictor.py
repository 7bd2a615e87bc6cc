"""Detect on any image: the Python API :class:`Detector` (``srtod.Detector``) of a trained model
(a checkpoint, a config and checkpoint, or an exported ``model.onnx``), one image or many, whole
or sliced (:mod:`srtod.sliced_inference`), read from files (:mod:`srtod.image_sources`) or given
as arrays; and :func:`predict_coco`, its COCO results on a split of a data set.

Glossary: h x w an original image (or frame), K detections.

    det = srtod.Detector("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", "epoch_12.pth")
    pred = det.predict("frame.jpg", maps=True)          # boxes in the frame's pixels, D and D_b
    pred = det.predict(bgr_array, slice=(512, 512))     # sliced (overlap 0.2, plus the full frame)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np

from .image_sources import BadImage, read_image
from .prediction import MAP_KEYS, Prediction, to_coco_results
from .sliced_inference import SliceConfig, as_slice_config, predict_sliced

ImageInput = str | Path | np.ndarray


class Detector:
    """A trained detector for any image (the API behind ``python -m srtod predict SOURCE``).

    Args:
        config: a checkpoint of ``srtod train`` alone (``Detector("epoch_12.pth")``: its own
            config, classes and input size, :mod:`srtod.checkpoint`); or an mmengine ``Config``
            or a config path (as ``python -m srtod``: a path or relative to ``srtod/configs``)
            with ``checkpoint``; or an exported ``model.onnx`` (``srtod export``; its
            ``model.json`` beside it), run with ONNX Runtime (:mod:`srtod.onnx_runtime`).
        checkpoint: the trained weights after a config (none for an ``.onnx``). One that does not
            fit the config's model is an error (:class:`srtod.inference.CheckpointMismatch`), not
            a warning; the classes are the checkpoint's where it carries them.
        device: 'cpu', 'cuda', 'cuda:N'; default CUDA when available.
        score_thr: detections below this score are dropped.
        image_size: the (longer) side the test pipeline resizes to; None keeps the config's.
        cfg_options: dotted-key overrides of the config.
        threads: ONNX Runtime's intra-op threads (``.onnx`` only; default its own choice).

    ``predict`` and ``predict_many`` return :class:`srtod.inference.Prediction` in the original
    image's pixel coordinates; with ``maps=True`` an SR-TOD model also fills ``maps['dmap']`` (D)
    and ``maps['mask']`` (D_b), each (h, w) float32.
    """

    def __init__(self, config, checkpoint: str | Path | None = None, device: str | None = None,
                 score_thr: float = 0.3, *, image_size: int | None = None,
                 cfg_options: dict | None = None, threads: int | None = None):
        self.score_thr = float(score_thr)
        self.onnx = None
        if str(config).lower().endswith(".onnx"):
            self._init_onnx(config, checkpoint, device, image_size, cfg_options, threads)
            return
        from .checkpoint import is_config

        if checkpoint is None and config is not None and not is_config(config):
            config, checkpoint = None, config  # Detector(CHECKPOINT): its own settings
        if checkpoint is None:
            raise ValueError(f"Detector({config!r}): a checkpoint is needed with a config "
                             "(only an exported model.onnx runs without one)")
        from mmcv.transforms import Compose

        from .checkpoint import checkpoint_meta, provenance, resolve_config
        from .config import array_test_pipeline, class_names
        from .inference import build_model
        from .models import SelfReconstruction

        if not Path(str(checkpoint)).is_file() and "://" not in str(checkpoint):
            raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
        cfg, notes = resolve_config(config, checkpoint, image_size=image_size,
                                    options=cfg_options)
        for note in notes:
            warnings.warn(note, stacklevel=2)
        self.cfg = cfg
        #: the training sittings (machine, versions, numeric settings, commit) of the checkpoint
        self.provenance = provenance(checkpoint_meta(checkpoint))
        self.checkpoint = str(checkpoint)
        self.model = build_model(cfg, checkpoint, device=device, strict=True)
        self.device = next(self.model.parameters()).device
        self.pipeline = Compose(array_test_pipeline(cfg))
        self.classes = class_names(self.model, cfg)
        self.is_srtod = any(isinstance(m, SelfReconstruction) for m in self.model.modules())

    def _init_onnx(self, path, checkpoint, device, image_size, cfg_options, threads) -> None:
        """An exported graph (``srtod export``) run by ONNX Runtime: no torch model, no mmdet
        pipeline; the resize and normalisation are those stored in its ``model.json``."""
        from .onnx_runtime import OnnxDetector

        given = [name for name, v in (("checkpoint", checkpoint), ("image_size", image_size),
                                      ("cfg_options", cfg_options)) if v]
        if given:
            raise ValueError(f"Detector({str(path)!r}): an exported ONNX model takes no "
                             f"{', '.join(given)} (they are fixed at export)")
        self.onnx = OnnxDetector(path, device=device, threads=threads)
        self.cfg, self.model, self.pipeline = None, None, None
        self.provenance = []
        self.checkpoint = str(path)
        self.device = "cuda" if device and device.startswith("cuda") else "cpu"
        self.classes = self.onnx.classes
        self.is_srtod = self.onnx.has_maps

    # -- one forward pass over a list of arrays ------------------------------------------------
    def _forward(self, images: list[np.ndarray], want_maps: bool
                 ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, dict]]:
        if self.onnx is not None:
            out = []
            for img in images:  # the graph takes one image
                b, s, lab, m = self.onnx(img, maps=want_maps and self.is_srtod)
                keep = s >= self.score_thr
                out.append((b[keep], s[keep], lab[keep], {k: m[k] for k in MAP_KEYS if k in m}))
            return out
        import torch
        from mmengine.dataset import pseudo_collate

        from .inference import _original_size_maps
        from .models import record_intermediates

        data = [self.pipeline(dict(img=img, img_id=i)) for i, img in enumerate(images)]
        batch = pseudo_collate(data)
        want_maps = want_maps and self.is_srtod
        ctx = record_intermediates(self.model) if want_maps else nullcontext([])
        with torch.no_grad(), ctx as records:
            samples = self.model.test_step(batch)
        out = []
        for i, sample in enumerate(samples):
            inst = sample.pred_instances
            keep = inst.scores >= self.score_thr
            maps = {}
            if records:
                maps = {k: v.astype(np.float32) for k, v in
                        _original_size_maps(records[0], i, sample.metainfo).items()
                        if k in MAP_KEYS}
            out.append((inst.bboxes[keep].cpu().numpy().astype(np.float32),
                        inst.scores[keep].cpu().numpy().astype(np.float32),
                        inst.labels[keep].cpu().numpy().astype(np.int64), maps))
        return out

    def _sliced(self, img: np.ndarray, cfg: SliceConfig, batch_size: int, want_maps: bool):
        """Sliced inference (:func:`srtod.sliced_inference.predict_sliced`); D and D_b only for
        an SR-TOD model."""
        b, s, lab, maps = predict_sliced(self._forward, img, cfg, batch_size, want_maps)
        return b, s, lab, (maps if maps and self.is_srtod else {})

    # -- public API ------------------------------------------------------------------------------
    def predict(self, image: ImageInput, slice: SliceConfig | Sequence[int] | int | None = None,
                *, maps: bool = False, batch_size: int = 4, img_id: int = 0) -> Prediction:
        """Detections on one image: a path or an (h, w, 3) uint8 BGR array (as ``cv2.imread``).

        ``slice``: None (the whole image through the test pipeline), ``(height, width)`` or a
        :class:`SliceConfig`; slices are run ``batch_size`` at a time. ``maps``: also return D and
        D_b at the image's size (SR-TOD models; sliced: the slices' maps stitched).
        A path that is not a readable image raises :class:`BadImage`.
        """
        return next(self.iter_predictions([image], slice=slice, maps=maps, batch_size=batch_size,
                                          first_id=img_id))[0]

    def predict_many(self, images: Iterable[ImageInput], *, batch_size: int = 1,
                     slice: SliceConfig | Sequence[int] | int | None = None, maps: bool = False,
                     on_error: Callable[[ImageInput, BadImage], None] | None = None,
                     progress: bool = False) -> Iterator[Prediction]:
        """:meth:`predict` over many images, ``batch_size`` images per forward pass (without
        slicing; with slicing, ``batch_size`` slices). ``img_id`` is the index in ``images``.
        A bad file raises :class:`BadImage`, or with ``on_error`` is passed to it and skipped."""
        for pred, _ in self.iter_predictions(images, batch_size=batch_size, slice=slice,
                                             maps=maps, on_error=on_error, progress=progress):
            yield pred

    def iter_predictions(self, images: Iterable[ImageInput], *, batch_size: int = 1,
                         slice: SliceConfig | Sequence[int] | int | None = None,
                         maps: bool = False, on_error: Callable | None = None,
                         progress: bool = False, first_id: int = 0,
                         total: int | None = None) -> Iterator[tuple[Prediction, np.ndarray]]:
        """:meth:`predict_many` that also yields each image (BGR array), for drawing."""
        from tqdm.auto import tqdm

        slice_cfg = as_slice_config(slice)
        batch_size = max(1, int(batch_size))
        if total is None and hasattr(images, "__len__"):
            total = len(images)

        def loaded() -> Iterator[tuple[int, str, np.ndarray]]:
            for k, item in enumerate(images, start=first_id):
                if isinstance(item, np.ndarray):
                    arr = item
                    if arr.ndim == 2:
                        arr = np.repeat(arr[..., None], 3, axis=2)
                    if arr.ndim != 3 or arr.shape[2] != 3:
                        raise ValueError(f"image array must be (h, w, 3) BGR, got {arr.shape}")
                    yield k, "", np.ascontiguousarray(arr)
                    continue
                try:
                    yield k, str(item), read_image(item)
                except BadImage as err:
                    if on_error is None:
                        raise
                    on_error(item, err)
                    bar.update(1)

        def emit(k, path, img, result):
            b, s, lab, m = result
            return Prediction(img_id=k, img_path=path, bboxes=b.reshape(-1, 4), scores=s,
                              labels=lab, maps=m), img

        with tqdm(total=total, desc="predict", unit="img", disable=not progress) as bar:
            if slice_cfg is not None:
                for k, path, img in loaded():
                    yield emit(k, path, img, self._sliced(img, slice_cfg, batch_size, maps))
                    bar.update(1)
                return
            pending: list[tuple[int, str, np.ndarray]] = []
            for item in loaded():
                pending.append(item)
                if len(pending) == batch_size:
                    for (k, path, img), res in zip(pending, self._forward(
                            [p[2] for p in pending], maps), strict=True):
                        yield emit(k, path, img, res)
                        bar.update(1)
                    pending = []
            if pending:
                for (k, path, img), res in zip(pending, self._forward(
                        [p[2] for p in pending], maps), strict=True):
                    yield emit(k, path, img, res)
                    bar.update(1)


def predict_coco(detector: Detector, gt_json: str | Path, images_dir: str | Path, *,
                 progress: bool = False) -> list[dict]:
    """COCO results of ``detector`` on every image of the ground truth ``gt_json`` (files under
    ``images_dir``), ``image_id`` its id, ``category_id`` the category of the detector's class
    name (by position among the categories sorted by id where the names differ): the split
    evaluation of :func:`srtod.inference.predict_split` for any detector, an exported
    ``model.onnx`` included."""
    import json

    gt = json.loads(Path(gt_json).read_text())
    cats = sorted(gt["categories"], key=lambda c: c["id"])
    by_name = {c["name"]: c["id"] for c in cats}
    if all(name in by_name for name in detector.classes):
        cat_ids = [by_name[name] for name in detector.classes]
    elif len(detector.classes) <= len(cats):
        cat_ids = [c["id"] for c in cats]
    else:
        raise ValueError(f"{gt_json}: {len(cats)} categories, but the detector has "
                         f"{len(detector.classes)} classes {detector.classes}")
    images = sorted(gt["images"], key=lambda im: im["id"])
    preds = detector.predict_many((Path(images_dir) / im["file_name"] for im in images),
                                  progress=progress)
    return to_coco_results([replace(pred, img_id=im["id"])
                            for im, pred in zip(images, preds, strict=True)], cat_ids)


__all__ = ["Detector", "predict_coco"]
