"""Export a trained detector (with or without SR-TOD) to ONNX: an export-friendly forward of
mmdet's test path, traced by torch's TorchScript exporter.

mmdet's ``predict`` cannot be traced as it is (per-image python loops, ``InstanceData``, data-
dependent branches), and mmdeploy 1.3.1 pins onnx 1.17 and protobuf 3.20 and patches exporter
internals of older torch. :class:`ExportableDetector` re-states the test path of the two supported
families with the model's own modules and the config's ``test_cfg``:

- two-stage (Faster R-CNN: ``RPNHead`` + ``StandardRoIHead`` with one ``SingleRoIExtractor``):
  backbone, neck (+ the SR-TOD block) -> RPN -> top ``nms_pre`` per level -> decode -> NMS per
  level -> RoIAlign on the level of each proposal (ONNX ``RoiAlign``, opset 16, ``half_pixel``
  for mmcv's ``aligned=True``) -> box head -> softmax, decode -> class-wise NMS;
- single-stage anchor heads with sigmoid scores (RetinaNet): heads -> score filter and top
  ``nms_pre`` per level -> decode -> class-wise NMS.

NMS is ONNX ``NonMaxSuppression`` on boxes offset per class (or level), as mmcv's ``batched_nms``.

The graph takes ``image`` (1, 3, H, W), the normalised RGB input padded with zeros to the export
size (or, exported ``dynamic``, to a multiple of ``pad_size_divisor`` as mmdet pads), and ``image_shape`` (2,) = (h, w) of its unpadded part (boxes are clipped to it, as mmdet
clips to ``img_shape``). It returns ``boxes`` (K, 4) in the network input's pixels, ``scores``
(K,), ``labels`` (K,) and, for SR-TOD models, ``dmap`` D (Eq. 3) and ``mask`` D_b (Eq. 4), each
(1, 1, H, W). :mod:`srtod.onnx_runtime` does the resizing, normalisation and rescaling around it.
"""

from __future__ import annotations

import json
import math
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import nms, roi_align  # imported before tracing (its import runs ops)

from .paths import repo_commit

#: Lowest and highest ONNX opset accepted (RoiAlign's ``coordinate_transformation_mode`` is 16+).
MIN_OPSET, MAX_OPSET = 16, 20
DEFAULT_OPSET = 17


class ExportError(ValueError):
    """A model, option or input that cannot be exported; the message says what and why."""


# -- what is supported -----------------------------------------------------------------------
def _head_kind(model) -> str:
    """'two_stage' or 'single_stage', or :class:`ExportError` naming what is not supported."""
    from mmdet.models.dense_heads import AnchorHead, RPNHead
    from mmdet.models.detectors import SingleStageDetector, TwoStageDetector
    from mmdet.models.roi_heads import StandardRoIHead
    from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor

    name = type(model).__name__.removeprefix("SRTOD")
    if isinstance(model, TwoStageDetector):
        roi = getattr(model, "roi_head", None)
        if (type(model.rpn_head) is not RPNHead or type(roi) is not StandardRoIHead
                or not isinstance(roi.bbox_roi_extractor, SingleRoIExtractor)
                or not isinstance(roi.bbox_head, ConvFCBBoxHead) or roi.with_mask):
            raise ExportError(f"export: {name} is not supported (only Faster R-CNN's RPNHead + "
                              "StandardRoIHead with a box head; cascades, masks and DetectoRS' "
                              "recursive backbone are not exported)")
        return "two_stage"
    if isinstance(model, SingleStageDetector) and isinstance(model.bbox_head, AnchorHead) \
            and type(model.bbox_head).__name__ in ("RetinaHead", "AnchorHead"):
        if not model.bbox_head.use_sigmoid_cls:
            raise ExportError(f"export: {name} with softmax scores is not supported")
        return "single_stage"
    raise ExportError(f"export: {name} is not supported (supported: Faster R-CNN and RetinaNet, "
                      "each with or without SR-TOD; DETR-family (DINO) and other heads have no "
                      "export-friendly forward here)")


def _check_cfgs(model, kind: str) -> None:
    """Reject test-time settings the graph does not reproduce."""
    from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder

    cfgs = [model.test_cfg.rpn, model.test_cfg.rcnn] if kind == "two_stage" else [model.test_cfg]
    for cfg in cfgs:
        nms = cfg.get("nms")
        if nms is not None and (nms.get("type", "nms") != "nms" or nms.get("class_agnostic")):
            raise ExportError(f"export: NMS {dict(nms)} is not supported (plain class-wise 'nms' "
                              "only; ONNX NonMaxSuppression has no soft-NMS)")
    heads = ([model.rpn_head, model.roi_head.bbox_head] if kind == "two_stage"
             else [model.bbox_head])
    for head in heads:
        if type(head.bbox_coder) is not DeltaXYWHBBoxCoder:
            raise ExportError(f"export: box coder {type(head.bbox_coder).__name__} is not "
                              "supported (DeltaXYWHBBoxCoder only)")
    if kind == "two_stage":
        bbox_head = model.roi_head.bbox_head
        if bbox_head.custom_cls_channels or getattr(bbox_head.loss_cls, "use_sigmoid", False):
            raise ExportError("export: a box head with sigmoid or custom class scores is not "
                              "supported (softmax over classes + background only)")
        for layer in model.roi_head.bbox_roi_extractor.roi_layers:
            if getattr(layer, "pool_mode", "avg") != "avg":
                raise ExportError("export: RoIAlign pool_mode 'max' is not supported (ONNX "
                                  "RoiAlign 'max' differs from mmcv's)")
    block = getattr(model, "srtod", None)
    if block is not None:
        if block.diff_map.get("kind", "pixel") != "pixel":
            raise ExportError("export: the high-frequency difference map (FFT) is not supported "
                              "by ONNX export; the pixel map of Eq. 3 is")


def _sorted_quantile_t(self, dmap: Tensor) -> Tensor:
    """``Threshold._quantile_t`` as ONNX can run it: ONNX has no ``kthvalue``, so the k-th
    smallest D is read from the sorted map (TopK), k computed in the graph from the map's size
    (``H * W`` varies in a ``--dynamic`` graph; in double precision, as Python computes it)."""
    flat = dmap.detach().flatten(1)
    n = torch._shape_as_tensor(flat)[1]
    k = torch.minimum(torch.ceil(n.double() * self.quantile).long().clamp(min=1), n) - 1
    return flat.sort(dim=1).values.index_select(1, k.reshape(1))[:, 0][:, None, None, None]


def _exportable_thresholds(model: nn.Module) -> None:
    """Give each per-image quantile threshold of ``model`` its exportable form (here, not in
    ``srtod/models``: the model code is part of every run's fingerprint)."""
    from .models.threshold import Threshold

    for module in model.modules():
        if isinstance(module, Threshold) and module.mode == "quantile":
            module._quantile_t = types.MethodType(_sorted_quantile_t, module)


# -- graph pieces ----------------------------------------------------------------------------
def _clip(boxes: Tensor, image_shape: Tensor) -> Tensor:
    """Clip (..., 4k) boxes (k boxes x1 y1 x2 y2 per row: the class-wise boxes of a box head
    with k classes) to [0, w] x [0, h], ``image_shape`` = (h, w)."""
    h, w = image_shape[0], image_shape[1]
    flat = boxes.reshape(-1, 4)
    x = torch.minimum(flat[:, 0::2].clamp(min=0), w)
    y = torch.minimum(flat[:, 1::2].clamp(min=0), h)
    return torch.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], dim=-1).reshape(boxes.shape)


def _decode(coder, priors: Tensor, deltas: Tensor, image_shape: Tensor) -> Tensor:
    from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox

    boxes = delta2bbox(priors, deltas, coder.means, coder.stds, None, 16 / 1000, False,
                       coder.add_ctr_clamp, coder.ctr_clamp)
    return _clip(boxes, image_shape) if coder.clip_border else boxes


def _select(mask: Tensor, *tensors: Tensor) -> list[Tensor]:
    idx = torch.nonzero(mask).reshape(-1)
    return [t[idx] for t in tensors]


def _batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou: float, max_num: int):
    """mmcv's ``batched_nms`` (offset trick) with ONNX NonMaxSuppression; indices of the kept
    boxes, best score first, at most ``max_num`` (all for ``max_num <= 0``)."""
    top = torch.cat([boxes.reshape(-1), boxes.new_zeros(1)]).max()  # 0 for no boxes
    keep = nms(boxes + (idxs.to(boxes) * (top + 1))[:, None], scores, float(iou))
    return keep[:max_num] if max_num > 0 else keep


def _min_size(cfg, boxes: Tensor, *rest: Tensor) -> list[Tensor]:
    m = cfg.get("min_bbox_size", -1)
    if m < 0:
        return [boxes, *rest]
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return _select((w > m) & (h > m), boxes, *rest)


class ExportableDetector(nn.Module):
    """The test path of a Faster R-CNN or RetinaNet (optionally SR-TOD) for one image of a fixed
    size, in traceable operations (see the module docstring for inputs and outputs)."""

    def __init__(self, model: nn.Module, input_size: tuple[int, int], maps: bool = True,
                 dynamic: bool = False) -> None:
        super().__init__()
        self.model = model.eval()
        self.kind = _head_kind(model)
        _check_cfgs(model, self.kind)
        self.block = getattr(model, "srtod", None)
        self.maps = maps and self.block is not None
        self.input_size = tuple(int(s) for s in input_size)
        self.dynamic = dynamic
        head = model.rpn_head if self.kind == "two_stage" else model.bbox_head
        with torch.no_grad():
            feats = self._features(torch.zeros(1, 3, *self.input_size))[0]
        sizes = [f.shape[-2:] for f in feats[: head.prior_generator.num_levels]]
        self.priors = [p.detach() for p in head.prior_generator.grid_priors(sizes, device="cpu")]

    def _priors(self, head, feats) -> list[Tensor]:
        """The anchors of each level: constants for a fixed size, computed from the levels'
        shapes in the graph for a dynamic one."""
        if not self.dynamic:
            return self.priors
        n = head.prior_generator.num_levels
        return head.prior_generator.grid_priors([f.shape[-2:] for f in feats[:n]], device="cpu")

    @staticmethod
    def _topk(s: Tensor, k: int):
        """The best ``k`` of ``s`` (all when fewer), in the graph also for dynamic sizes."""
        if k <= 0:
            return s.sort(descending=True)
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            kk = torch.clamp(torch._shape_as_tensor(s)[0], max=k)
            return s.topk(kk)
        return s.topk(min(k, s.shape[0]))

    @property
    def output_names(self) -> list[str]:
        names = ["boxes", "scores", "labels"]
        if self.maps:
            names += ["dmap", "mask"] if self.block.dgfe is not None else ["dmap"]
        return names

    def _features(self, image: Tensor) -> tuple[tuple[Tensor, ...], dict]:
        if not self.maps:
            return self.model.extract_feat(image), {}
        with self.block.record() as records:
            feats = self.model.extract_feat(image)
        return feats, records[0]

    def forward(self, image: Tensor, image_shape: Tensor):
        feats, rec = self._features(image)
        if self.kind == "two_stage":
            boxes, scores, labels = self._two_stage(feats, image_shape)
        else:
            boxes, scores, labels = self._single_stage(feats, image_shape)
        out = [boxes, scores, labels]
        if self.maps:
            out.append(rec["dmap"])
            if self.block.dgfe is not None:
                out.append(rec["mask"])
        return tuple(out)

    # Faster R-CNN ------------------------------------------------------------------------------
    def _proposals(self, feats, image_shape: Tensor) -> Tensor:
        head, cfg = self.model.rpn_head, self.model.test_cfg.rpn
        cls_scores, bbox_preds = head(feats)
        nms_pre = cfg.get("nms_pre", -1)
        all_boxes, all_scores, all_levels = [], [], []
        levels = zip(cls_scores, bbox_preds, self._priors(head, feats), strict=True)
        for lvl, (cls, reg, priors) in enumerate(levels):
            s = cls[0].permute(1, 2, 0).reshape(-1, head.cls_out_channels)
            s = s.sigmoid()[:, 0] if head.use_sigmoid_cls else s.softmax(-1)[:, 0]
            d = reg[0].permute(1, 2, 0).reshape(-1, 4)
            if nms_pre > 0 and (self.dynamic or nms_pre < s.shape[0]):
                s, idx = self._topk(s, nms_pre)
                d, priors = d[idx], priors[idx]
            all_boxes.append(_decode(head.bbox_coder, priors, d, image_shape))
            all_scores.append(s)
            all_levels.append(torch.full((s.shape[0],), lvl, dtype=torch.long))
        boxes, scores, levels = _min_size(cfg, torch.cat(all_boxes), torch.cat(all_scores),
                                          torch.cat(all_levels))
        keep = _batched_nms(boxes, scores, levels, cfg.nms.iou_threshold, cfg.max_per_img)
        return boxes[keep]

    def _roi_feats(self, feats, proposals: Tensor) -> Tensor:
        ext = self.model.roi_head.bbox_roi_extractor
        n = len(ext.featmap_strides)
        scale = torch.sqrt((proposals[:, 2] - proposals[:, 0]) * (proposals[:, 3] - proposals[:, 1]))
        lvls = torch.floor(torch.log2(scale / ext.finest_scale + 1e-6)).clamp(min=0, max=n - 1)
        rois = torch.cat([torch.zeros_like(proposals[:, :1]), proposals], dim=1)
        order, pooled = [], []
        for i, layer in enumerate(ext.roi_layers):  # each proposal on its level only
            idx = torch.nonzero(lvls == i).reshape(-1)
            pooled.append(roi_align(feats[i], rois[idx], layer.output_size, layer.spatial_scale,
                                    layer.sampling_ratio, layer.aligned))
            order.append(idx)
        back = torch.argsort(torch.cat(order).float())  # back to the proposals' order
        return torch.cat(pooled)[back]

    def _two_stage(self, feats, image_shape: Tensor):
        roi_head, cfg = self.model.roi_head, self.model.test_cfg.rcnn
        proposals = self._proposals(feats, image_shape)
        cls_score, bbox_pred = roi_head.bbox_head(self._roi_feats(feats, proposals))
        num_classes = roi_head.bbox_head.num_classes
        scores = F.softmax(cls_score, dim=-1)[:, :num_classes]
        boxes = _decode(roi_head.bbox_head.bbox_coder, proposals, bbox_pred, image_shape)
        boxes = boxes.reshape(-1, 1 if roi_head.bbox_head.reg_class_agnostic else num_classes, 4)
        boxes = boxes.expand(-1, num_classes, 4).reshape(-1, 4)
        labels = torch.arange(num_classes).expand(scores.shape[0], num_classes).reshape(-1)
        scores = scores.reshape(-1)
        boxes, scores, labels = _select(scores > cfg.score_thr, boxes, scores, labels)
        keep = _batched_nms(boxes, scores, labels, cfg.nms.iou_threshold, cfg.max_per_img)
        return boxes[keep], scores[keep], labels[keep]

    # RetinaNet ---------------------------------------------------------------------------------
    def _single_stage(self, feats, image_shape: Tensor):
        head, cfg = self.model.bbox_head, self.model.test_cfg
        cls_scores, bbox_preds = head(feats)
        nms_pre, thr = cfg.get("nms_pre", -1), cfg.get("score_thr", 0)
        c = head.cls_out_channels
        all_boxes, all_scores, all_labels = [], [], []
        for cls, reg, priors in zip(cls_scores, bbox_preds, self._priors(head, feats),
                                    strict=True):
            s = cls[0].permute(1, 2, 0).reshape(-1).sigmoid()  # index = prior * C + label
            d = reg[0].permute(1, 2, 0).reshape(-1, 4)
            s = torch.where(s > thr, s, torch.full_like(s, -1.0))
            if self.dynamic:
                s, idx = self._topk(s, nms_pre)
            else:
                s, idx = s.topk(s.shape[0] if nms_pre <= 0 else min(nms_pre, s.shape[0]))
            s, idx = _select(s > thr, s, idx)
            prior = torch.div(idx, c, rounding_mode="floor")
            all_boxes.append(_decode(head.bbox_coder, priors[prior], d[prior], image_shape))
            all_scores.append(s)
            all_labels.append(idx - prior * c)
        boxes, scores, labels = _min_size(cfg, torch.cat(all_boxes), torch.cat(all_scores),
                                          torch.cat(all_labels))
        keep = _batched_nms(boxes, scores, labels, cfg.nms.iou_threshold, cfg.max_per_img)
        return boxes[keep], scores[keep], labels[keep]


# -- the export itself -----------------------------------------------------------------------
def default_input_size(cfg) -> tuple[int, int]:
    """(H, W) of the padded network input of the config's test pipeline for a landscape image:
    the Resize scale's short and long side, rounded up to the preprocessor's ``pad_size_divisor``."""
    from .config import array_test_pipeline

    scale = next((s["scale"] for s in array_test_pipeline(cfg)
                  if str(s["type"]).split(".")[-1] == "Resize"), None)
    if scale is None:
        raise ExportError("export: the test pipeline has no Resize; give --image-size H W")
    div = cfg.model.data_preprocessor.get("pad_size_divisor", 1) or 1
    short, long = sorted(int(s) for s in (scale if isinstance(scale, (tuple, list)) else (scale,) * 2))
    return math.ceil(short / div) * div, math.ceil(long / div) * div


def _resize_step(cfg) -> dict:
    from .config import array_test_pipeline

    for step in array_test_pipeline(cfg):
        if str(step["type"]).split(".")[-1] == "Resize":
            scale = step["scale"]
            scale = list(scale) if isinstance(scale, (tuple, list)) else [scale, scale]
            return dict(scale=scale, keep_ratio=bool(step.get("keep_ratio", False)))
    raise ExportError("export: the test pipeline has no Resize step")


def check_opset(opset: int) -> int:
    if not MIN_OPSET <= int(opset) <= MAX_OPSET:
        raise ExportError(f"export: opset {opset} is not supported (use {MIN_OPSET}-{MAX_OPSET}: "
                          "RoiAlign's half_pixel alignment needs opset 16)")
    return int(opset)


def export_onnx(config, checkpoint: str | Path, out_dir: str | Path, *,
                image_size: tuple[int, int] | None = None, opset: int = DEFAULT_OPSET,
                maps: bool = True, dynamic: bool = False, resize: int | None = None) -> Path:
    """Export ``config`` + ``checkpoint`` to ``out_dir/model.onnx`` and ``out_dir/model.json``;
    returns the onnx path. Everything is checked (opset, model type, checkpoint fit) before a file
    is written; :class:`ExportError` or :class:`srtod.inference.CheckpointError` otherwise.

    ``config`` None: the checkpoint's own config (:mod:`srtod.checkpoint`: the input size and
    classes it was trained with), so the graph detects what ``predict CHECKPOINT`` detects.
    ``resize``: the (longer) side images are resized to, as ``train``/``predict --image-size``
    (default: the config's). ``image_size``: the graph's padded input H x W (default: the Resize
    scale, landscape, padded to ``pad_size_divisor``).
    ``dynamic``: the graph takes any H x W (multiples of the preprocessor's ``pad_size_divisor``),
    its anchors computed from the levels' shapes; ONNX Runtime then pads each image as mmdet
    does, so any image shape gives PyTorch's detections. ``image_size`` is the traced example."""
    import warnings

    from .checkpoint import resolve_config
    from .config import class_names
    from .inference import build_detector, build_model

    check_opset(opset)
    if not Path(checkpoint).is_file():
        raise ExportError(f"export: checkpoint {checkpoint} does not exist")
    cfg, _ = resolve_config(config, checkpoint, image_size=resize)
    probe = build_detector(cfg)  # the type is checked before the weights are read
    _check_cfgs(probe, _head_kind(probe))
    del probe
    model = build_model(cfg, checkpoint, device="cpu", strict=True)
    model = model.to(memory_format=torch.contiguous_format)
    _exportable_thresholds(model)
    size = tuple(image_size) if image_size else default_input_size(cfg)
    div = cfg.model.data_preprocessor.get("pad_size_divisor", 1) or 1
    if any(s % div or s <= 0 for s in size):
        raise ExportError(f"export: image size {size[0]} x {size[1]} must be positive multiples "
                          f"of the preprocessor's pad_size_divisor {div}")
    net = ExportableDetector(model, size, maps=maps, dynamic=dynamic).eval()
    resize = _resize_step(cfg)
    pre = cfg.model.data_preprocessor
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    image = torch.zeros(1, 3, *size)
    shape = torch.tensor([float(size[0]), float(size[1])])
    start = time.perf_counter()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (image, shape), str(onnx_path), opset_version=opset,
                          input_names=["image", "image_shape"], output_names=net.output_names,
                          dynamo=False, do_constant_folding=True,
                          dynamic_axes={"image": {2: "H", 3: "W"}} if dynamic else None)
    seconds = time.perf_counter() - start
    head_cfg = model.test_cfg.rcnn if net.kind == "two_stage" else model.test_cfg
    meta = dict(
        format="onnx", opset=opset,
        config=str(cfg.filename) if config is not None else f"{cfg.filename} (the checkpoint's)",
        checkpoint=str(checkpoint),
        detector=type(model).__name__, kind=net.kind, srtod=net.block is not None,
        classes=list(class_names(model, cfg)), input_size=list(size), dynamic=bool(dynamic),
        resize=resize, mean=[float(v) for v in pre.get("mean", [0, 0, 0])],
        std=[float(v) for v in pre.get("std", [1, 1, 1])], bgr_to_rgb=bool(pre.get("bgr_to_rgb")),
        pad_value=0.0, pad_size_divisor=int(div), score_thr=float(head_cfg.get("score_thr", 0.0)),
        inputs=["image", "image_shape"], outputs=net.output_names,
        dmap="dmap" in net.output_names, boxes_in="network input pixels (x1, y1, x2, y2)",
        export_seconds=round(seconds, 2), srtod_commit=repo_commit(short=False))
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    return onnx_path


__all__ = ["ExportError", "ExportableDetector", "check_opset", "default_input_size", "export_onnx"]
