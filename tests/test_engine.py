"""Channels-last convolutions on the CPU: same results, plain convolutions only, and models with
NCHW-only kernels (deformable convolution) left as they are."""


import torch
from torch import nn

from srtod.engine import to_channels_last


def test_plain_convolutions_go_channels_last_with_the_same_output():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.ConvTranspose2d(8, 4, 2, stride=2), nn.Flatten(), nn.LazyLinear(2))
    x = torch.rand(2, 3, 16, 16)
    want = net(x)
    params = list(net.parameters())
    out = to_channels_last(net)
    assert out is net and list(net.parameters()) == params  # the same objects (optimisers)
    for conv in (net[0], net[3]):
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
        assert not conv.weight.is_contiguous()
    torch.testing.assert_close(net(x), want, rtol=1e-5, atol=1e-6)


def test_models_with_deformable_convolutions_stay_nchw():
    from mmcv.ops import DeformConv2dPack

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), DeformConv2dPack(8, 8, 3, padding=1))
    x = torch.rand(1, 3, 8, 8)
    want = net(x)
    to_channels_last(net)
    assert net[0].weight.is_contiguous()  # untouched: its output feeds deformable offsets
    torch.testing.assert_close(net(x), want)  # and it still runs (NCHW-only CPU kernel)


def test_mmcv_operators_get_nchw_inputs():
    """mmcv's CPU RoIAlign reads its input as NCHW: on a channels-last map it returns wrong values
    (here by up to 0.66), so a converted model must hand it contiguous features."""
    from mmcv.ops import RoIAlign

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.roi = RoIAlign(7, 0.25, 0, aligned=True)

        def forward(self, x, rois):
            return self.roi(self.conv(x), rois)

    torch.manual_seed(0)
    head = Head()
    x = torch.rand(2, 3, 20, 20)
    rois = torch.tensor([[0, 1.0, 1.0, 30.0, 30.0], [1, 5.0, 5.0, 60.0, 40.0]])
    want = head(x, rois)
    broken = head.roi(head.conv(x).to(memory_format=torch.channels_last), rois)
    assert (broken - want).abs().max() > 0.1  # the kernel's behaviour this guards against
    to_channels_last(head)
    assert head.conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(head(x, rois), want, rtol=1e-5, atol=1e-5)
    to_channels_last(head)  # twice: one hook
    assert len(head.roi._forward_pre_hooks) == 1
