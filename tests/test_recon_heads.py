"""Reconstruction heads built from the registry: the paper's and the lite variants (issue 13)."""

import math

import pytest
import torch

from srtod.complexity import count_flops
from srtod.config import load_config
from srtod.inference import build_model
from srtod.models import LiteReconstructionHead, ReconstructionHead, SelfReconstruction

VARIANTS = [
    dict(),
    dict(out_stride=2),
    dict(out_stride=4),  # reconstructed at P2's own resolution: no up-stage
    dict(upsample="pixelshuffle"),
    dict(upsample="deconv", depthwise=False, width=16),
]


@pytest.mark.parametrize("kw", VARIANTS)
@pytest.mark.parametrize("size", [(50, 70), (37, 45), (64, 96)])
def test_lite_heads_reconstruct_any_input_size(kw, size):
    """Sides that are not multiples of 32 (nor of the stride): the block crops to the input."""
    h, w = size
    block = SelfReconstruction(in_channels=32, stride=4,
                               recon_head=dict(type="LiteReconstructionHead", **kw))
    feats = (torch.randn(2, 32, math.ceil(h / 4), math.ceil(w / 4)),)
    new, out = block(feats, torch.rand(2, 3, h, w))
    assert out["recon"].shape == (2, 3, h, w) and out["dmap"].shape == (2, 1, h, w)
    assert 0 <= float(out["recon"].min()) and float(out["recon"].max()) <= 1
    out["recon"].mean().backward()
    assert all(p.grad is not None for p in block.recon_head.parameters())


def lite_flops(c, stride, hl, wl, width=32, upsample="bilinear", depthwise=True, out_stride=1):
    """Multiply-adds x 2 of LiteReconstructionHead, counted by hand layer by layer."""
    px = hl * wl
    total = 2 * c * width * px  # 1x1 reduce
    for _ in range(int(math.log2(stride // out_stride))):
        if upsample == "pixelshuffle":
            total += 2 * width * 4 * width * px
        elif upsample == "deconv":
            total += 2 * width * width * 16 * px  # 4x4 kernel per input pixel
        px *= 4
        total += (2 * 9 * width + 2 * width * width) * px if depthwise else 2 * 9 * width ** 2 * px
    return total + 2 * 9 * width * 3 * px  # 3x3 out conv


@pytest.mark.parametrize("kw", VARIANTS)
def test_lite_head_flops_match_the_hand_count(kw):
    head = LiteReconstructionHead(in_channels=64, stride=4, **kw).to("meta")
    flops, _, _ = count_flops(head, torch.zeros(1, 64, 13, 21, device="meta"))
    assert flops == lite_flops(64, 4, 13, 21, **kw)


def test_paper_head_flops_match_the_hand_count():
    """Eq. (1)-(2) at P2: two up-stages C -> C/2 -> C/4, then a 3x3 conv to 3 channels."""
    c, hl, wl = 64, 13, 21
    flops, _, _ = count_flops(ReconstructionHead(c, stride=4).to("meta"),
                              torch.zeros(1, c, hl, wl, device="meta"))
    px, expected, ch = hl * wl, 0, c
    for _ in range(2):
        expected += 2 * ch * (ch // 2) * 16 * px  # transposed conv, per input pixel
        px, ch = px * 4, ch // 2
        expected += 2 * (2 * 9 * ch * ch * px)  # Conv1, Conv2
    assert flops == expected + 2 * 9 * ch * 3 * px


def test_bad_lite_settings_are_named():
    with pytest.raises(ValueError, match="upsample"):
        LiteReconstructionHead(32, upsample="nearest")
    with pytest.raises(ValueError, match="out_stride"):
        LiteReconstructionHead(32, stride=4, out_stride=3)


def test_config_switches_the_head_and_keeps_the_paper_default():
    cfg = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    paper = build_model(load_config(cfg), device="cpu")
    assert type(paper.srtod.recon_head) is ReconstructionHead
    lite = build_model(load_config(cfg, options={
        "model.srtod.recon_head": dict(type="LiteReconstructionHead", width=16, out_stride=2)}),
        device="cpu")
    head = lite.srtod.recon_head
    assert type(head) is LiteReconstructionHead and head.out_stride == 2
    assert head.in_channels == 64 and head.stride == 4  # from SelfReconstruction


def test_rh_only_skips_the_reconstruction_at_inference():
    block = SelfReconstruction(in_channels=16, stride=4, dgfe=None).eval()
    calls = []
    block.recon_head.register_forward_hook(lambda *a: calls.append(1))
    feats = (torch.randn(1, 16, 8, 8),)
    new, out = block(feats, torch.rand(1, 3, 32, 32))
    assert new[0] is feats[0] and "recon" not in out and not calls
    with block.record() as records:  # the figures still get the maps
        block(feats, torch.rand(1, 3, 32, 32))
    assert calls and "dmap" in records[0]
    block.train()
    assert "recon" in block(feats, torch.rand(1, 3, 32, 32))[1]
