"""Detect on any image: the Python API :class:`Detector` (``srtod.Detector``), image reading that
names what is wrong with a file, and sliced inference for frames much larger than the network input.

Glossary: h x w an original image (or frame), K detections, S slices of one image.

    det = srtod.Detector("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", "epoch_12.pth")
    pred = det.predict("frame.jpg", maps=True)          # boxes in the frame's pixels, D and D_b
    pred = det.predict(bgr_array, slice=(512, 512))     # sliced (overlap 0.2, plus the full frame)
"""

from __future__ import annotations

import glob
import io
import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .prediction import Prediction, to_coco_results

#: File suffixes read as images (what OpenCV decodes) and as videos.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff",
                            ".webp", ".pbm", ".pgm", ".ppm", ".pnm", ".jp2", ".sr", ".ras"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv",
                            ".webm", ".asf", ".ts"})
#: ``Prediction.maps`` keys filled with ``maps=True``: D (Eq. 3) and D_b (Eq. 4).
MAP_KEYS = ("dmap", "mask")


class BadImage(ValueError):
    """A file that is not a readable image; the message names the file and what is wrong."""


def read_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as an (h, w, 3) uint8 BGR array, decoded as mmdet's
    ``LoadImageFromFile`` does (OpenCV, EXIF orientation applied).

    Raises :class:`BadImage` for a missing, empty, undecodable or truncated file (a truncated JPEG
    or PNG decodes partly in OpenCV without an error; Pillow's full decode detects it).
    """
    import cv2
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadImage(f"{path}: cannot be read ({err.strerror or err})") from err
    if not data:
        raise BadImage(f"{path}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                im.load()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        pass  # a format Pillow does not know, or too large for its check: OpenCV decides below
    except (OSError, SyntaxError, ValueError) as err:
        raise BadImage(f"{path}: truncated or corrupt image ({err})") from err
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise BadImage(f"{path}: not an image (OpenCV cannot decode its {len(data)} bytes)")
    return img


@dataclass(frozen=True)
class SliceConfig:
    """Sliced inference (as SAHI): overlapping ``height`` x ``width`` windows, batched, plus the
    full frame (``full_frame``), merged per class by ``merge`` where boxes overlap by at least
    ``match_thr`` (as SAHI) under ``match_metric`` ('ios': intersection over the smaller box, SAHI's default,
    so a drone cut by a slice border merges into its whole box; 'iou'). 'nms' keeps the best box
    of a group; 'nmm' (SAHI's default) merges the group into the union box with the best score.
    NMS is the default here: on 1920 x 1080 frames of 7 px drones, NMM let a large full-frame box
    swallow the drones inside it (AP 25.3 against 35.9 with NMS, APvt 18.4 against 21.6;
    ``docs/results/large_frames``)."""

    height: int
    width: int
    overlap: float = 0.2
    full_frame: bool = True
    merge: str = "nms"
    match_metric: str = "ios"
    match_thr: float = 0.5

    def __post_init__(self):
        if self.height < 1 or self.width < 1:
            raise ValueError(f"slice size must be positive, got {self.height} x {self.width}")
        if not 0 <= self.overlap < 1:
            raise ValueError(f"slice overlap must be in [0, 1), got {self.overlap}")
        if self.merge not in ("nms", "nmm"):
            raise ValueError(f"merge must be 'nms' or 'nmm', got {self.merge!r}")
        if self.match_metric not in ("iou", "ios"):
            raise ValueError(f"match_metric must be 'iou' or 'ios', got {self.match_metric!r}")
        if not 0 < self.match_thr <= 1:
            raise ValueError(f"match_thr must be in (0, 1], got {self.match_thr}")


def as_slice_config(slice: SliceConfig | Sequence[int] | int | None) -> SliceConfig | None:
    """``None``, a :class:`SliceConfig`, ``(h, w)`` or one side for square slices."""
    if slice is None or isinstance(slice, SliceConfig):
        return slice
    if isinstance(slice, int):
        return SliceConfig(slice, slice)
    h, w = slice
    return SliceConfig(int(h), int(w))


def _starts(n: int, size: int, step: int) -> list[int]:
    if n <= size:
        return [0]
    starts = list(range(0, n - size, step)) + [n - size]  # the last window ends at the border
    return sorted(set(starts))


def slice_windows(h: int, w: int, cfg: SliceConfig) -> list[tuple[int, int, int, int]]:
    """Windows ``(x0, y0, x1, y1)`` (exclusive ends) that cover an h x w image, each
    ``cfg.height`` x ``cfg.width`` (or the image's side where smaller), row by row, consecutive
    ones overlapping by ``int(cfg.overlap * side)`` pixels and the last one ending at the border:
    SAHI's windows (``sahi.slicing.get_slice_bboxes``), so that one overlap ratio means the same
    slices in both."""
    sh, sw = min(cfg.height, h), min(cfg.width, w)
    step_y = max(1, sh - int(cfg.overlap * sh))
    step_x = max(1, sw - int(cfg.overlap * sw))
    return [(x0, y0, x0 + sw, y0 + sh) for y0 in _starts(h, sh, step_y)
            for x0 in _starts(w, sw, step_x)]


def _overlap(box: np.ndarray, others: np.ndarray, metric: str) -> np.ndarray:
    """Overlap of each box of ``a`` (K, 4) with the box of ``b`` (K, 4) in the same row (either
    may be one box, broadcast): IoU or IoS (intersection over the smaller box's area)."""
    ix1 = np.maximum(box[..., 0], others[..., 0])
    iy1 = np.maximum(box[..., 1], others[..., 1])
    ix2 = np.minimum(box[..., 2], others[..., 2])
    iy2 = np.minimum(box[..., 3], others[..., 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area = (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1])
    areas = (others[..., 2] - others[..., 0]) * (others[..., 3] - others[..., 1])
    denom = np.minimum(area, areas) if metric == "ios" else area + areas - inter
    return inter / np.maximum(denom, 1e-9)


#: a box that covers more grid cells than this is paired with every box instead
_MAX_CELLS = 256


def _pairs_within_groups(key: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b), a < b, of items that share a key (items unique within a key)."""
    order = np.lexsort((item, key))
    key, item = key[order], item[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    size = np.diff(np.r_[start, len(key)])
    count = np.repeat(start + size, size) - np.arange(len(key)) - 1  # later items of the group
    first = np.repeat(np.arange(len(key)), count)
    second = first + 1 + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return item[first], item[second]


def _matches(bboxes: np.ndarray, labels: np.ndarray, metric: str, thr: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of same-label boxes that overlap by at least ``thr`` (> 0), as a neighbour
    list: box i's matches are ``nbrs[ptr[i]:ptr[i + 1]]``. Only boxes that share a cell of a grid
    (cells of the 90th percentile box side) are compared, since boxes that intersect share one; a
    box covering more than ``_MAX_CELLS`` cells is compared with every box. Cost about the number
    of boxes and of close pairs, instead of K^2."""
    k = len(bboxes)
    side = np.maximum(bboxes[:, 2] - bboxes[:, 0], bboxes[:, 3] - bboxes[:, 1])
    cell = max(float(np.percentile(side, 90)), 1.0)
    origin = bboxes[:, :2].min(0)
    lo = np.floor((bboxes[:, :2] - origin) / cell).astype(np.int64)
    hi = np.floor((np.maximum(bboxes[:, 2:], bboxes[:, :2]) - origin) / cell).astype(np.int64)
    nx, ny = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    cells = np.where(nx * ny > _MAX_CELLS, 0, nx * ny)
    box = np.repeat(np.arange(k), cells)
    j = np.arange(cells.sum()) - np.repeat(np.cumsum(cells) - cells, cells)
    cx, cy = lo[box, 0] + j % nx[box], lo[box, 1] + j // nx[box]
    _, label = np.unique(labels, return_inverse=True)
    width, height = int(hi[:, 0].max()) + 1, int(hi[:, 1].max()) + 1
    pairs = [_pairs_within_groups((label[box] * height + cy) * width + cx, box)]
    for i in np.flatnonzero(cells == 0):  # a large box against every box (each pair once)
        others = np.flatnonzero((cells > 0) | (np.arange(k) > i))
        others = others[(others != i) & (labels[others] == labels[i])]
        pairs.append((np.minimum(i, others), np.maximum(i, others)))
    code = np.unique(np.concatenate([a * k + b for a, b in pairs]))
    a, b = code // k, code % k
    hit = _overlap(bboxes[a], bboxes[b], metric) >= thr
    a, b = np.concatenate([a[hit], b[hit]]), np.concatenate([b[hit], a[hit]])
    ptr = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=k))])
    return ptr, b[np.argsort(a, kind="stable")]


def merge_detections(bboxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                     merge: str = "nmm", metric: str = "ios", thr: float = 0.5
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy class-wise NMS or non-maximum merging (see :class:`SliceConfig`), best score first:
    each box not yet taken keeps (NMS) or merges into its union box (NMM) the remaining boxes of
    its class that overlap it by at least ``thr`` (as SAHI's NMS and greedy NMM decide). Returns
    the kept boxes, scores and labels, sorted by score. The overlaps are computed only where boxes intersect (:func:`_matches`), so
    the tens of thousands of boxes of a sliced frame merge in a fraction of a second."""
    order = np.argsort(-scores, kind="stable")
    bboxes, scores, labels = bboxes[order], scores[order], labels[order]
    if not len(bboxes):
        return bboxes.reshape(0, 4).astype(np.float32), scores, labels
    if not thr > 0:  # at 0 every pair would match, disjoint ones too
        raise ValueError(f"merge threshold must be > 0, got {thr}")
    ptr, nbrs = _matches(bboxes, labels, metric, thr)
    alive = np.ones(len(bboxes), bool)
    out_boxes, keep = [], []
    for i in range(len(bboxes)):
        if not alive[i]:
            continue
        alive[i] = False
        hit = nbrs[ptr[i]:ptr[i + 1]]
        hit = hit[alive[hit]]  # boxes after i not taken yet (those before are decided)
        alive[hit] = False
        box = bboxes[i]
        if merge == "nmm" and len(hit):
            group = np.vstack([box[None], bboxes[hit]])
            box = np.concatenate([group[:, :2].min(0), group[:, 2:].max(0)])
        keep.append(i)
        out_boxes.append(box)
    keep = np.asarray(keep, int)
    boxes = np.asarray(out_boxes, np.float32).reshape(-1, 4)
    return boxes, scores[keep], labels[keep]


def _test_pipeline(cfg) -> list[dict]:
    """The config's test pipeline for arrays: ``LoadImageFromNDArray`` instead of loading from a
    file, annotation loading removed."""
    loader = cfg.get("test_dataloader") or cfg.get("val_dataloader")
    steps = loader["dataset"]["pipeline"] if loader else cfg.test_pipeline
    out = []
    for step in steps:
        kind = str(step["type"]).split(".")[-1]
        if kind == "LoadAnnotations" or kind.endswith("LoadAnnotations"):
            continue
        if kind == "LoadImageFromFile":
            step = dict(type="mmdet.LoadImageFromNDArray")
        out.append(dict(step))
    return out


def _class_names(model, cfg) -> tuple[str, ...]:
    meta = getattr(model, "dataset_meta", None) or {}
    if meta.get("classes"):
        return tuple(meta["classes"])
    dataset = (cfg.get("test_dataloader") or {}).get("dataset") or {}
    if (dataset.get("metainfo") or {}).get("classes"):
        return tuple(dataset["metainfo"]["classes"])
    try:
        from mmdet.registry import DATASETS

        cls = DATASETS.get(dataset.get("type"))
        if cls is not None and cls.METAINFO.get("classes"):
            return tuple(cls.METAINFO["classes"])
    except Exception:  # noqa: BLE001  (names are a convenience; fall back to numbers)
        pass
    from .config import _walk

    heads = [n["num_classes"] for n in _walk(cfg.model) if "num_classes" in n]
    return tuple(str(i) for i in range(heads[0] if heads else 1))


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
        self.pipeline = Compose(_test_pipeline(cfg))
        self.classes = _class_names(self.model, cfg)
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
        """Slices ``batch_size`` at a time, then the full frame in a pass of its own: batched with
        slices, mmdet would pad it to the slices' size, which changes SR-TOD's DGFE channel
        weights (and a quantile threshold) against a pass of its own."""
        h, w = img.shape[:2]
        windows = slice_windows(h, w, cfg)
        crops = [img[y0:y1, x0:x1] for x0, y0, x1, y1 in windows]
        offsets = [(x0, y0) for x0, y0, _, _ in windows]
        n_slices = len(crops)
        batch_size = max(1, batch_size)
        chunks = [list(range(start, min(start + batch_size, n_slices)))
                  for start in range(0, n_slices, batch_size)]
        if cfg.full_frame and windows != [(0, 0, w, h)]:
            crops.append(img)
            offsets.append((0, 0))
            chunks.append([n_slices])
        boxes, scores, labels = [], [], []
        maps = {k: np.zeros((h, w), np.float32) for k in MAP_KEYS} if want_maps else {}
        for chunk in chunks:
            for j, (b, s, lab, m) in zip(chunk, self._forward([crops[j] for j in chunk], want_maps),
                                         strict=True):
                dx, dy = offsets[j]
                boxes.append(b + np.array([dx, dy, dx, dy], np.float32))
                scores.append(s)
                labels.append(lab)
                if j < n_slices:  # D and D_b: the slices' maps, stitched (max where they overlap)
                    x0, y0, x1, y1 = windows[j]
                    for k, v in m.items():
                        np.maximum(maps[k][y0:y1, x0:x1], v, out=maps[k][y0:y1, x0:x1])
        b, s, lab = merge_detections(np.concatenate(boxes), np.concatenate(scores),
                                     np.concatenate(labels), cfg.merge, cfg.match_metric,
                                     cfg.match_thr)
        b[:, 0::2] = b[:, 0::2].clip(0, w)
        b[:, 1::2] = b[:, 1::2].clip(0, h)
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


@dataclass
class Sources:
    """Images and videos of a SOURCE, each with the name it is written under (its path relative to
    the folder or the glob's fixed part), and the files skipped with why."""

    images: list[tuple[Path, str]] = field(default_factory=list)
    videos: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def collect_sources(source: str) -> Sources:
    """Sort SOURCE into images, videos and skipped files. Raises FileNotFoundError when it names
    nothing (no such file or folder, a glob matching nothing)."""
    out = Sources()
    path = Path(source)
    if path.is_file():
        kind = out.videos if path.suffix.lower() in VIDEO_SUFFIXES else out.images
        kind.append((path, path.name))
        return out
    if path.is_dir():
        root, files = path, sorted(p for p in path.iterdir()
                                   if p.is_file() and not p.name.startswith("."))
    elif glob.has_magic(source):
        files = sorted(Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(f"no file matches {source!r}")
        fixed = list(itertools.takewhile(lambda part: not glob.has_magic(part), Path(source).parts))
        root = Path(*fixed) if fixed else Path(".")  # the folder before the first wildcard
    else:
        raise FileNotFoundError(f"SOURCE {source} does not exist (not a file, folder or glob)")
    for p in files:
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.name
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            out.images.append((p, rel))
        elif suffix in VIDEO_SUFFIXES:
            out.videos.append((p, rel))
        else:
            out.skipped.append(f"{p}: not an image or video (suffix {suffix or 'none'!r}), skipped")
    return out


__all__ = ["BadImage", "Detector", "IMAGE_SUFFIXES", "SliceConfig", "Sources", "VIDEO_SUFFIXES",
           "collect_sources", "merge_detections", "predict_coco", "read_image", "slice_windows"]
