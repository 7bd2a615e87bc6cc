"""SR-TOD modules (paper Eq. 1-6): shapes, values against direct computations, gradients."""

import pytest
import torch
import torch.nn.functional as F

from srtod.models import (
    DGFE,
    ReconstructionHead,
    SelfReconstruction,
    Threshold,
    difference_map,
    high_pass,
    record_intermediates,
)


@pytest.mark.parametrize("stride,size", [(4, (8, 8)), (4, (13, 21)), (8, (5, 7)), (2, (9, 4))])
def test_reconstruction_head_shapes(stride, size):
    head = ReconstructionHead(in_channels=32, stride=stride)
    out = head(torch.randn(2, 32, *size))
    assert out.shape == (2, 3, size[0] * stride, size[1] * stride)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output, Eq. (2)
    # log2(stride) up-stages, channels halve each stage (Eq. 1)
    assert len(head.up) == {2: 1, 4: 2, 8: 3}[stride]
    assert head.out_conv.in_channels == 32 // stride


def test_reconstruction_head_layers_follow_eq1():
    stage = ReconstructionHead(in_channels=64, stride=4).up[0]
    tconv, conv1, _, conv2, _ = stage
    assert (tconv.in_channels, tconv.out_channels, tconv.kernel_size, tconv.stride) == (64, 32, (4, 4), (2, 2))
    assert conv1.kernel_size == conv2.kernel_size == (3, 3)
    assert conv1.in_channels == conv2.out_channels == 32


def test_reconstruction_head_rejects_bad_config():
    with pytest.raises(ValueError, match="stride"):
        ReconstructionHead(in_channels=32, stride=6)
    with pytest.raises(ValueError, match="divisible"):
        ReconstructionHead(in_channels=30, stride=8)


def test_pixel_difference_map_is_channel_mean_of_abs():
    recon, target = torch.rand(2, 3, 5, 6), torch.rand(2, 3, 5, 6)
    expected = torch.stack([(recon[:, c] - target[:, c]).abs() for c in range(3)]).mean(0)
    torch.testing.assert_close(difference_map(recon, target), expected[:, None])


def test_high_pass_removes_constant_and_keeps_edges():
    flat = torch.full((1, 3, 16, 16), 0.7)
    assert high_pass(flat, 0.1).abs().max() < 1e-5
    img = torch.zeros(1, 1, 16, 16)
    img[..., 8, 8] = 1.0  # a one-pixel "very tiny object" is mostly high frequency
    hp = high_pass(img, 0.1)
    assert hp[..., 8, 8] > 0.5 and hp.argmax() == 8 * 16 + 8
    same = torch.rand(1, 3, 16, 16)
    assert difference_map(same, same, kind="highfreq").abs().max() < 1e-5
    with pytest.raises(ValueError, match="kind"):
        difference_map(same, same, kind="wavelet")


def test_threshold_modes():
    d = torch.tensor([[[[0.1, 0.2], [0.3, 0.4]]]])
    assert torch.equal(Threshold("none")(d), d)
    expected = torch.tensor([[[[0.0, 0.0], [1.0, 1.0]]]])
    for mode in ("fixed", "learnable", "learnable_ste"):
        assert torch.equal(Threshold(mode, init=0.25)(d), expected)  # same forward, Eq. (4)
    assert isinstance(Threshold("learnable").t, torch.nn.Parameter)
    assert not isinstance(Threshold("fixed").t, torch.nn.Parameter)
    with pytest.raises(ValueError, match="mode"):
        Threshold("soft")


def _dgfe_reference(dgfe, feat, dmap, t):
    """Eq. (4)-(6) written out directly."""
    db = (torch.sign(dmap - t) + 1) * 0.5
    filtration = F.interpolate(db, size=feat.shape[-2:], mode="nearest") + 1
    fc1, _, fc2 = dgfe.reweighting.mlp

    def mlp(v):
        return fc2(torch.relu(fc1(v)))

    avg = feat.mean(dim=(2, 3))
    mx = feat.flatten(2).max(dim=2).values
    weights = torch.sigmoid(mlp(avg) + mlp(mx))[:, :, None, None]
    return weights * filtration * feat


@pytest.mark.parametrize("fsize,isize", [((8, 8), (32, 32)), ((7, 10), (28, 40)), ((5, 9), (17, 33))])
def test_dgfe_matches_equations(fsize, isize):
    torch.manual_seed(0)
    dgfe = DGFE(in_channels=32, threshold=dict(mode="fixed", init=0.5))
    feat, dmap = torch.randn(2, 32, *fsize), torch.rand(2, 1, *isize)
    out = dgfe(feat, dmap)
    torch.testing.assert_close(out["feat"], _dgfe_reference(dgfe, feat, dmap, 0.5))
    assert out["feat"].shape == feat.shape
    assert out["mask"].shape == (2, 1, *isize)
    assert out["mask_level"].shape == (2, 1, *fsize)


def test_filtration_keeps_features_where_mask_is_zero():
    """Filtration = Resize(D_b) + 1: where D_b = 0 the feature is only channel-reweighted."""
    dgfe = DGFE(in_channels=16, threshold=dict(mode="fixed", init=0.5))
    feat = torch.randn(1, 16, 4, 4)
    dmap = torch.zeros(1, 1, 16, 16)
    dmap[..., :4, :4] = 1.0  # one active cell at level resolution (0, 0)
    out = dgfe(feat, dmap)
    weights = dgfe.reweighting(feat)
    torch.testing.assert_close(out["feat"][..., 1:, :], (weights * feat)[..., 1:, :])
    torch.testing.assert_close(out["feat"][..., 0, 0], 2 * (weights * feat)[..., 0, 0])


def test_dgfe_fusion_variants():
    feat, dmap = torch.randn(2, 16, 6, 6), torch.rand(2, 1, 24, 24)
    em = DGFE(16, fusion="multiply", threshold=dict(mode="fixed", init=0.5))(feat, dmap)
    torch.testing.assert_close(em["feat"], em["mask_level"] * feat)
    cat = DGFE(16, fusion="concat")
    out = cat(feat, dmap)
    assert out["feat"].shape == feat.shape and cat.fuse.in_channels == 17
    with pytest.raises(ValueError, match="fusion"):
        DGFE(16, fusion="add")
    mx = DGFE(16, resize_mode="max", threshold=dict(mode="fixed", init=0.5))
    spot = torch.zeros(1, 1, 24, 24)
    spot[..., 5, 5] = 1.0  # a one-pixel object survives max-pool resizing
    assert mx(torch.randn(1, 16, 6, 6), spot)["mask_level"][0, 0, 1, 1] == 1


def test_threshold_gradients_paper_vs_ste():
    """sign() has zero derivative: the paper's 'learnable' t never moves; the STE version does."""
    feat, dmap = torch.randn(2, 16, 8, 8), torch.rand(2, 1, 32, 32)
    grads = {}
    for mode in ("learnable", "learnable_ste"):
        dgfe = DGFE(16, threshold=dict(mode=mode, init=0.5))
        dgfe(feat, dmap)["feat"].square().mean().backward()
        grads[mode] = dgfe.threshold.t.grad
    assert grads["learnable"] is None or grads["learnable"] == 0
    assert grads["learnable_ste"] is not None and grads["learnable_ste"].abs() > 0


@pytest.mark.parametrize("ste_grad", ["t", "all"])
def test_ste_gradient_reaches_d_only_when_asked(ste_grad):
    """learnable_ste: t always learns; D (so the reconstruction head) gets the detection loss's
    gradient only with ste_grad='all'. The hard forward value is the same for both."""
    thr = Threshold(mode="learnable_ste", init=0.5, temperature=0.05, ste_grad=ste_grad)
    dmap = torch.rand(1, 1, 8, 8, requires_grad=True)
    mask = thr(dmap)
    assert torch.equal(mask.detach(), (dmap.detach() > 0.5).float())
    (mask * torch.arange(64.0).view(1, 1, 8, 8)).sum().backward()
    assert thr.t.grad is not None and thr.t.grad.abs() > 0
    reached = dmap.grad is not None and bool(dmap.grad.abs().sum() > 0)
    assert reached == (ste_grad == "all")
    with pytest.raises(ValueError, match="ste_grad"):
        Threshold(mode="learnable_ste", ste_grad="d")


def test_ste_threshold_moves_in_short_training():
    torch.manual_seed(0)
    dgfe = DGFE(8, threshold=dict(mode="learnable_ste", init=0.5, temperature=0.05))
    paper = DGFE(8, threshold=dict(mode="learnable", init=0.5))
    params = list(dgfe.parameters()) + list(paper.parameters())
    opt = torch.optim.SGD(params, lr=0.5)
    feat, dmap = torch.randn(4, 8, 8, 8), torch.rand(4, 1, 32, 32)
    for _ in range(20):  # objective: enhance as much as possible -> t should fall
        opt.zero_grad()
        loss = -(dgfe(feat, dmap)["feat"].abs().mean() + paper(feat, dmap)["feat"].abs().mean())
        loss.backward()
        opt.step()
    assert float(dgfe.threshold.t.detach()) < 0.45
    assert float(paper.threshold.t.detach()) == 0.5


@pytest.mark.parametrize("size", [(64, 64), (50, 70), (37, 45)])
def test_self_reconstruction_block(size):
    block = SelfReconstruction(in_channels=32, level=0, stride=4)
    h, w = size
    feats = (torch.randn(1, 32, -(-h // 4), -(-w // 4)), torch.randn(1, 32, -(-h // 8), -(-w // 8)))
    target = torch.rand(1, 3, h, w)
    new, out = block(feats, target)
    assert new[0].shape == feats[0].shape and new[1] is feats[1]
    assert out["recon"].shape == target.shape and out["dmap"].shape == (1, 1, h, w)
    assert not torch.equal(new[0], feats[0])
    losses = block.loss(out, target)
    torch.testing.assert_close(losses["loss_rec"], F.mse_loss(out["recon"], target))
    # t is logged, not optimised: mmengine's parse_losses sums only keys containing 'loss'
    from mmengine.model import BaseModel

    total, logged = BaseModel.parse_losses(None, losses)
    torch.testing.assert_close(total, losses["loss_rec"])
    assert "srtod_t" in logged
    on = (out["dmap"] > block.dgfe.threshold.t).float().mean()  # D_b's share, from D itself
    assert float(logged["srtod_on"]) == pytest.approx(float(on))


def test_rh_only_leaves_features_unchanged():
    block = SelfReconstruction(in_channels=16, stride=4, dgfe=None)
    feats = (torch.randn(1, 16, 8, 8),)
    new, out = block(feats, torch.rand(1, 3, 32, 32))
    assert new[0] is feats[0] and "mask" not in out


def test_record_intermediates_reads_out_maps():
    model = torch.nn.Sequential(SelfReconstruction(in_channels=16, stride=4))
    with record_intermediates(model) as records:
        model[0]((torch.randn(2, 16, 8, 8),), torch.rand(2, 3, 32, 32))
    assert len(records) == 1
    assert set(records[0]) >= {"recon", "dmap", "mask", "mask_level", "feat"}
    assert records[0]["mask"].shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="SelfReconstruction"):
        with record_intermediates(torch.nn.Linear(2, 2)):
            pass
