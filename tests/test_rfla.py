"""RFLA (Xu et al., ECCV 2022): receptive fields measured on the real backbone against hand
counts, the Gaussian priors, the KL distance against torch.distributions, and the hierarchical
assigner giving a 3 x 3 px box the positives that mmdet's IoU assigner cannot."""

import math

import pytest
import torch
from mmengine.structures import InstanceData
from torch import nn

import srtod.models  # noqa: F401  (registers mmdet's modules in srtod's default scope too)
from srtod.task_modules import (
    HierarchicalAssigner,
    RFDistance,
    RFPriorGenerator,
    gaussian_kld,
    measure_receptive_fields,
    receptive_fields,
)

SLIM_R18 = dict(type="ResNet", depth=18, base_channels=32, num_stages=4, out_indices=(0, 1, 2, 3),
                frozen_stages=-1, norm_cfg=dict(type="BN", requires_grad=True), norm_eval=False,
                style="pytorch", init_cfg=None)


def _trf(layers):
    """Receptive field by the textbook recursion r += (k - 1) * j, j *= s over (k, s) layers."""
    r, j, out = 1, 1, []
    for k, s, tap in layers:
        r, j = r + (k - 1) * j, j * s
        if tap:
            out.append(r)
    return out


class TinyNet(nn.Module):
    """conv3x3/1 -> maxpool3x3/2 -> conv5x5/2 (two outputs), with a residual branch that must not
    change the field."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, 1, 1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.b = nn.Conv2d(4, 4, 5, 2, 2)
        self.skip = nn.Conv2d(4, 4, 1, 2)

    def forward(self, x):
        y = self.pool(torch.relu(self.a(x)))
        return y, torch.relu(self.b(y)) + self.skip(y)


def test_receptive_field_of_a_small_net_by_hand():
    assert measure_receptive_fields(TinyNet()) == _trf([(3, 1, False), (3, 2, True),
                                                        (5, 2, True)]) == [5, 13]


def test_receptive_fields_of_the_slim_and_the_paper_backbone():
    # slim ResNet-18: stem conv7/2 + maxpool3/2, then BasicBlocks of two 3x3 convs (the first of a
    # stage strided); P6 adds twice its stride (the official RFLA convention)
    stem = [(7, 2, False), (3, 2, False)]
    blocks = []
    for stage in range(4):
        for block in range(2):
            blocks += [(3, 2 if stage and not block else 1, False), (3, 1, block == 1)]
    by_hand = _trf(stem + blocks)
    assert by_hand == [43, 99, 211, 435]
    assert receptive_fields(SLIM_R18, [4, 8, 16, 32, 64]) == by_hand + [435 + 2 * 64]
    # ResNet-50: the official RFLA values for P2-P6
    r50 = dict(SLIM_R18, depth=50, base_channels=64, frozen_stages=1, norm_eval=True)
    assert receptive_fields(r50, [4, 8, 16, 32, 64]) == [35, 91, 267, 427, 555]


def test_priors_are_receptive_field_gaussians_at_the_feature_points():
    gen = RFPriorGenerator(strides=[4, 8], receptive_fields=[43, 99], fraction=0.5,
                           ratios=[1.0])
    p2, p3 = gen.grid_priors([(2, 3), (1, 2)], device="cpu")
    centres = (p2[:, :2] + p2[:, 2:]) / 2
    assert centres.tolist() == [[x * 4.0, y * 4.0] for y in range(2) for x in range(3)]
    sides = p2[:, 2:] - p2[:, :2]
    assert torch.allclose(sides, torch.full_like(sides, 0.5 * 43))  # std of the Gaussian: 43 / 4
    assert torch.allclose(p3[:, 2:] - p3[:, :2], torch.full((2, 2), 0.5 * 99))
    three = RFPriorGenerator(strides=[4], receptive_fields=[40])
    assert three.num_base_priors == [3]
    w, h = (three.base_anchors[0][:, 2:] - three.base_anchors[0][:, :2]).T
    assert torch.allclose(w * h, torch.full((3,), 400.0))  # ratios keep the area
    with pytest.raises(ValueError, match="exactly one of"):
        RFPriorGenerator(strides=[4])


def _gaussian(box):
    x1, y1, x2, y2 = box
    return torch.distributions.MultivariateNormal(
        torch.tensor([(x1 + x2) / 2, (y1 + y2) / 2], dtype=torch.float64),
        torch.diag(torch.tensor([(x2 - x1) ** 2 / 4, (y2 - y1) ** 2 / 4], dtype=torch.float64)))


def test_kld_against_the_closed_form():
    gts = torch.tensor([[10.0, 10.0, 13.0, 13.0], [0.0, 0.0, 30.0, 12.0]])
    priors = torch.tensor([[0.0, 0.0, 21.5, 21.5], [8.0, 9.0, 16.0, 14.0], [10.0, 10.0, 13.0, 13.0]])
    got = gaussian_kld(gts, priors)
    for i, g in enumerate(gts.tolist()):
        for j, p in enumerate(priors.tolist()):
            want = torch.distributions.kl_divergence(_gaussian(p), _gaussian(g)).item()
            assert got[i, j].item() == pytest.approx(want, rel=1e-5, abs=1e-6)
    rfd = RFDistance()(gts, priors)
    assert rfd[0, 2].item() == pytest.approx(1.0)  # identical Gaussians
    assert ((rfd > 0) & (rfd <= 1)).all()
    assert torch.allclose(RFDistance()(gts, priors, mode="iou")[0, 2], torch.tensor(1.0))


def _instances(gts, priors):
    pred = InstanceData(priors=priors)
    gt = InstanceData(bboxes=gts, labels=torch.zeros(len(gts), dtype=torch.long))
    return pred, gt


def test_a_3px_box_gets_positives_where_the_iou_assigner_gives_none():
    from mmdet.models.task_modules.assigners import MaxIoUAssigner

    gen = RFPriorGenerator(strides=[4, 8, 16], receptive_fields=[43, 99, 211])
    priors = torch.cat(gen.grid_priors([(16, 16), (8, 8), (4, 4)], device="cpu"))
    gts = torch.tensor([[30.0, 30.0, 33.0, 33.0], [40.0, 20.0, 43.0, 23.0],
                        [5.0, 50.0, 35.0, 60.0]])
    pred, gt = _instances(gts, priors)
    rpn_iou = MaxIoUAssigner(pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                             match_low_quality=True)  # mmdet's RPN assigner
    iou = rpn_iou.assign(pred, gt).gt_inds
    assert not (iou == 1).any() and not (iou == 2).any()  # the 3 x 3 boxes: no positive
    hla = HierarchicalAssigner(topk=(3, 1), ratio=0.9).assign(pred, gt)
    for k in (1, 2, 3):
        n = int((hla.gt_inds == k).sum())
        assert 3 <= n <= 4, (k, n)  # stage 1's top 3, plus stage 2's best when not among them
    assert (hla.labels[hla.gt_inds > 0] == 0).all() and (hla.labels[hla.gt_inds <= 0] == -1).all()
    # negatives: RFD below 0.8 to every box; the rest that is not positive is ignored
    rfd = RFDistance()(gts, priors).max(0).values
    neg = hla.gt_inds == 0
    assert neg.any() and (rfd[neg] < 0.8).all()


def test_stage_one_positives_are_the_best_priors_and_conflicts_go_to_the_best_fit():
    priors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 0.0, 12.0, 10.0], [40, 40, 50, 50],
                           [100, 100, 110, 110.0]])
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0]])
    res = HierarchicalAssigner(topk=(1, 1), ratio=1.0).assign(*_instances(gts, priors))
    # prior 0 is both boxes' best: box 1 (identical) keeps it; box 2's own best is prior 1 in
    # stage 2 (ratio 1: the same ranking, prior 0 already taken)
    assert res.gt_inds[0].item() == 1 and res.gt_inds[1].item() == 2
    assert res.gt_inds[3].item() == 0  # far from everything: negative
    assert res.max_overlaps[0].item() == pytest.approx(1.0)


def test_empty_inputs():
    priors = torch.rand(5, 2).repeat(1, 2) + torch.tensor([0.0, 0.0, 4.0, 4.0])
    res = HierarchicalAssigner().assign(*_instances(torch.zeros(0, 4), priors))
    assert (res.gt_inds == 0).all()  # no object: every prior is background
    res = HierarchicalAssigner().assign(*_instances(torch.tensor([[0.0, 0, 3, 3]]),
                                                    torch.zeros(0, 4)))
    assert res.gt_inds.numel() == 0
    assert math.isclose(HierarchicalAssigner(ratio=0.9).ratio, 0.9)
