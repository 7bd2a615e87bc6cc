"""RFLA: Gaussian receptive-field label assignment for tiny objects, in mmdet 3 registries.

Xu et al., "RFLA: Gaussian Receptive Field based Label Assignment for Tiny Object Detection",
ECCV 2022 (the SR-TOD paper's best Tab. 1 row is RFLA w/ SR-TOD). Anchors of IoU-based assigners
are too large for a 3 x 3 px object: no anchor overlaps it enough, so it gets no positive sample.
RFLA replaces the anchor by the feature point's effective receptive field (ERF), modelled as a
Gaussian, measures how well a ground-truth box (also a Gaussian) fits it by the receptive-field
distance (RFD, a KL divergence), and assigns with a two-stage top-k (HLA) that gives every box
positives, however small.

- :func:`receptive_fields` measures the theoretical receptive field (TRF) of each output of the
  actual backbone (any depth or width, so the slim CPU models work too);
- :class:`RFPriorGenerator`: one square prior per ratio at each feature point, side
  ``fraction x TRF`` (paper: the ERF is about half the TRF), i.e. a Gaussian with mean at the
  point and standard deviation half the side;
- :class:`RFDistance`: RFD = 1 / (1 + KL(N_prior || N_gt)), boxes as N((cx, cy), diag(w^2/4, h^2/4));
- :class:`HierarchicalAssigner` (HLA): per box the top ``k1`` priors by RFD, then with the priors
  shrunk by ``ratio`` the top ``k2`` of those not yet positive; priors with RFD < ``neg_thr`` to
  every box are negatives, the rest ignored.

The values (fraction 0.5, top-k (3, 1), ratio 0.9, negative threshold 0.8, the extrapolation of
extra pyramid levels) are those of the official code (Chasel-Tsui/mmdet-rfla); the code is ours.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence

import torch
from mmdet.models.task_modules.assigners import AssignResult, BaseAssigner
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor, nn

#: paper's ERF / TRF
DEFAULT_FRACTION = 0.5


def _as_tracer(backbone: nn.Module) -> nn.Module:
    """A copy of ``backbone`` in which every path carries gradient: positive averaging weights,
    identity normalisation, average instead of max pooling (same kernel, stride, padding: the same
    receptive field, but the gradient reaches every input of the window, not only the maximum)."""
    net = copy.deepcopy(backbone).float()
    net.eval()  # (mmdet's ResNet.train returns None, so not chained)
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(parent, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                   ceil_mode=child.ceil_mode))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.fill_(1.0 / fan_in)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._NormBase):
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
                if m.track_running_stats:
                    m.running_mean.zero_()
                    m.running_var.fill_(1.0 - m.eps)
    return net


def measure_receptive_fields(backbone: nn.Module, in_channels: int = 3,
                             start_size: int = 128, max_size: int = 4096) -> list[int]:
    """Theoretical receptive field in input pixels of each output of ``backbone`` (a module that
    returns a tuple of feature maps): the extent of the input region whose pixels reach the
    central feature point, found by back-propagating from that point through a copy where every
    path carries gradient (:func:`_as_tracer`). The input grows until no field touches its border.
    """
    net = _as_tracer(backbone)
    size = start_size
    while size <= max_size:
        x = torch.ones(1, in_channels, size, size, requires_grad=True)
        outs = net(x)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        fields = []
        for out in outs:
            x.grad = None
            h, w = out.shape[-2:]
            out[0, :, h // 2, w // 2].sum().backward(retain_graph=True)
            support = x.grad[0].abs().sum(0) > 0
            rows = support.any(1).nonzero().flatten()
            cols = support.any(0).nonzero().flatten()
            if rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 \
                    or cols.max() == size - 1:
                break
            fields.append(int(max(rows.max() - rows.min(), cols.max() - cols.min())) + 1)
        else:
            return fields
        size *= 2
    raise ValueError(f"receptive field larger than {max_size} px: cannot measure it")


@functools.lru_cache(maxsize=8)
def _fields_of(backbone_json: str) -> tuple[int, ...]:
    cfg = json.loads(backbone_json)
    cfg["init_cfg"] = None  # no weights needed to measure a receptive field
    return tuple(measure_receptive_fields(MODELS.build(cfg), cfg.get("in_channels", 3)))


def receptive_fields(backbone: dict | nn.Module, strides: Sequence[int]) -> list[int]:
    """TRF of every pyramid level of ``strides``: measured on the backbone (a config or a module)
    for the levels it outputs; an extra level beyond them (FPN's P6, P7) adds twice its stride to
    the level below, the official RFLA convention (ResNet-50 P2-P6: 35, 91, 267, 427, 555)."""
    if isinstance(backbone, nn.Module):
        fields = measure_receptive_fields(backbone)
    else:
        fields = list(_fields_of(json.dumps(dict(backbone), sort_keys=True, default=str)))
    fields = fields[:len(strides)]
    for stride in list(strides)[len(fields):]:
        fields.append(fields[-1] + 2 * int(stride))
    return fields


@TASK_UTILS.register_module()
class RFPriorGenerator(AnchorGenerator):
    """RFLA's priors: at every feature point, squares (one per ratio, area kept) of side
    ``fraction`` x the level's theoretical receptive field, centred on the point as mmdet's
    anchors are. Give ``receptive_fields`` (px per level) or the ``backbone`` config to measure
    them on (:func:`receptive_fields`).

    Args:
        strides (list[int]): strides of the levels (e.g. ``[4, 8, 16, 32, 64]`` for P2-P6).
        fraction (float): ERF / TRF. Defaults to 0.5 (paper).
        receptive_fields (list[int], optional): TRF per level, px.
        backbone (dict, optional): backbone config whose TRFs to measure.
        ratios (list[float]): height / width of the priors. Defaults to ``[0.5, 1.0, 2.0]``.
    """

    def __init__(self, strides: Sequence[int], fraction: float = DEFAULT_FRACTION,
                 receptive_fields: Sequence[int] | None = None, backbone: dict | None = None,
                 ratios: Sequence[float] = (0.5, 1.0, 2.0), center_offset: float = 0.0) -> None:
        if (receptive_fields is None) == (backbone is None):
            raise ValueError("RFPriorGenerator: give exactly one of receptive_fields, backbone")
        if receptive_fields is None:
            receptive_fields = globals()["receptive_fields"](backbone, strides)
        if len(receptive_fields) != len(strides):
            raise ValueError(f"RFPriorGenerator: {len(receptive_fields)} receptive fields for "
                             f"{len(strides)} strides")
        self.receptive_fields = [int(r) for r in receptive_fields]
        self.fraction = float(fraction)
        super().__init__(strides=list(strides), ratios=list(ratios), scales=[1.0],
                         base_sizes=[self.fraction * r for r in self.receptive_fields],
                         center_offset=center_offset)


def gaussian_kld(gt: Tensor, priors: Tensor, eps: float = 1e-6) -> Tensor:
    """KL(N_prior || N_gt) for every (gt, prior) pair, boxes x1y1x2y2 as Gaussians
    N((cx, cy), diag(w^2 / 4, h^2 / 4)): (G, 4), (N, 4) -> (G, N)."""
    g = gt[:, None, :]
    p = priors[None, :, :]
    wg, hg = (g[..., 2] - g[..., 0]).clamp(min=eps), (g[..., 3] - g[..., 1]).clamp(min=eps)
    wp, hp = (p[..., 2] - p[..., 0]).clamp(min=eps), (p[..., 3] - p[..., 1]).clamp(min=eps)
    dx = (p[..., 0] + p[..., 2] - g[..., 0] - g[..., 2]) / 2
    dy = (p[..., 1] + p[..., 3] - g[..., 1] - g[..., 3]) / 2
    trace = (wp / wg) ** 2 + (hp / hg) ** 2
    mahalanobis = 4 * dx**2 / wg**2 + 4 * dy**2 / hg**2
    log_det = 2 * torch.log(wg / wp) + 2 * torch.log(hg / hp)
    return (trace + mahalanobis + log_det - 2) / 2


@TASK_UTILS.register_module()
class RFDistance:
    """Receptive-field distance RFD = 1 / (1 + KL(N_prior || N_gt)) in (0, 1] (1: the prior's
    Gaussian is the box's); ``mode='iou'`` or ``'iof'`` give mmdet's overlaps (ignore regions)."""

    def __call__(self, bboxes1: Tensor, bboxes2: Tensor, mode: str = "rfd",
                 is_aligned: bool = False) -> Tensor:
        bboxes1, bboxes2 = bboxes1[..., :4], bboxes2[..., :4]
        if mode in ("iou", "iof"):
            return bbox_overlaps(bboxes1, bboxes2, mode=mode, is_aligned=is_aligned)
        if mode != "rfd" or is_aligned:
            raise ValueError(f"RFDistance: mode 'rfd' (not aligned), 'iou' or 'iof', got {mode!r}")
        if bboxes1.numel() == 0 or bboxes2.numel() == 0:
            return bboxes1.new_zeros(len(bboxes1), len(bboxes2))
        return 1 / (1 + gaussian_kld(bboxes1, bboxes2))


def _rescale(boxes: Tensor, ratio: float) -> Tensor:
    """Boxes scaled by ``ratio`` about their centres."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * ratio / 2
    return torch.cat([centre - half, centre + half], dim=1)


@TASK_UTILS.register_module()
class HierarchicalAssigner(BaseAssigner):
    """RFLA's hierarchical label assignment (HLA).

    Stage 1: each ground-truth box takes its ``topk[0]`` priors of highest RFD as positives (a
    prior in several boxes' top-k goes to the box it fits best); a prior whose RFD to every box is
    below ``neg_thr`` is a negative, any other prior is ignored. Stage 2: the priors shrunk by
    ``ratio`` about their centres are ranked again, and each box takes its ``topk[1]`` best as
    positives among the priors that stage 1 did not make positive, whose negative/ignored state
    now follows the shrunk priors' RFD.

    Args:
        topk (tuple[int, int]): positives per box in each stage. Defaults to (3, 1).
        ratio (float): shrink factor of the priors in stage 2. Defaults to 0.9.
        neg_thr (float): RFD below which a prior is a negative. Defaults to 0.8.
        ignore_iof_thr (float): priors covered more than this by an ignore region (crowd) are
            ignored; negative: no ignore regions. Defaults to -1.
        metric (dict): the distance. Defaults to ``dict(type='RFDistance')``.
    """

    def __init__(self, topk: Sequence[int] = (3, 1), ratio: float = 0.9, neg_thr: float = 0.8,
                 ignore_iof_thr: float = -1, metric: dict | None = None) -> None:
        if len(topk) != 2 or min(topk) < 1:
            raise ValueError(f"HierarchicalAssigner: topk must be two positive ints, got {topk}")
        self.topk = tuple(int(k) for k in topk)
        self.ratio = float(ratio)
        self.neg_thr = float(neg_thr)
        self.ignore_iof_thr = float(ignore_iof_thr)
        self.metric = TASK_UTILS.build(metric or dict(type="RFDistance"))

    def _stage(self, rfd: Tensor, k: int, ignored: Tensor) -> Tensor:
        """gt_inds of one stage: top-k per box positive (1-based), else negative (0) below
        ``neg_thr``, else ignored (-1)."""
        num_gts, num_priors = rfd.shape
        rfd = rfd.masked_fill(ignored[None, :], -1.0)
        inds = rfd.new_full((num_priors,), -1, dtype=torch.long)
        inds[(rfd.max(0).values < self.neg_thr) & ~ignored] = 0
        values, priors = rfd.topk(min(k, num_priors), dim=1)
        gts = torch.arange(num_gts, device=rfd.device)[:, None].expand_as(priors)
        values, priors, gts = values.flatten(), priors.flatten(), gts.flatten()
        keep = values >= 0  # never a prior in an ignore region
        values, priors, gts = values[keep], priors[keep], gts[keep]
        best = rfd.new_full((num_priors,), -2.0).scatter_reduce(0, priors, values, "amax")
        win = values >= best[priors]
        inds[priors[win]] = gts[win] + 1
        return inds

    def assign(self, pred_instances, gt_instances, gt_instances_ignore=None,
               **kwargs) -> AssignResult:
        priors, gt_bboxes, gt_labels = pred_instances.priors, gt_instances.bboxes, \
            gt_instances.labels
        num_gts, num_priors = len(gt_bboxes), len(priors)
        if num_gts == 0 or num_priors == 0:
            gt_inds = priors.new_full((num_priors,), 0 if num_gts == 0 else -1, dtype=torch.long)
            return AssignResult(num_gts, gt_inds, priors.new_zeros(num_priors),
                                labels=priors.new_full((num_priors,), -1, dtype=torch.long))
        ignored = torch.zeros(num_priors, dtype=torch.bool, device=priors.device)
        if (self.ignore_iof_thr > 0 and gt_instances_ignore is not None
                and len(gt_instances_ignore.bboxes) > 0):
            iof = self.metric(priors, gt_instances_ignore.bboxes, mode="iof")
            ignored = iof.max(1).values > self.ignore_iof_thr
        rfd = self.metric(gt_bboxes, priors)
        first = self._stage(rfd, self.topk[0], ignored)
        second = self._stage(self.metric(gt_bboxes, _rescale(priors, self.ratio)), self.topk[1],
                             ignored)
        gt_inds = torch.where(first > 0, first, second)
        labels = gt_inds.new_full((num_priors,), -1)
        pos = gt_inds > 0
        labels[pos] = gt_labels[gt_inds[pos] - 1].long()
        return AssignResult(num_gts, gt_inds, rfd.max(0).values, labels=labels)
