"""Reconstruction heads (RH) of SR-TOD: the paper's (Sec. 3.2, Eq. (1)-(2)) and a cheap variant.

Both map an FPN level (N, C, H, W) to an image (N, 3, s*H, s*W) in [0, 1] and are built from
``SelfReconstruction(recon_head=dict(type=...))``; ``in_channels`` and ``stride`` come from there.

Glossary: N batch, C channels of the FPN level, H x W the level's size, s its stride.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


class UpStage(nn.Sequential):
    """``Up(X) = ReLU(Conv2(ReLU(Conv1(TranConv(X)))))``, paper Eq. (1).

    ``TranConv`` is a 4x4 transposed convolution with stride 2 from C to C/2 channels; ``Conv1`` and
    ``Conv2`` are 3x3 convolutions on C/2 channels. Output: (N, C/2, 2H, 2W).
    """

    def __init__(self, in_channels: int) -> None:
        out = in_channels // 2
        super().__init__(
            nn.ConvTranspose2d(in_channels, out, kernel_size=4, stride=2, padding=1),
            nn.Conv2d(out, out, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(out, out, 3, padding=1),
            nn.ReLU(inplace=True),
        )


@MODELS.register_module()
class ReconstructionHead(BaseModule):
    """Rebuilds the input image from one FPN level: ``I_r = Sigmoid(Conv(Up(...Up(P))))``, Eq. (2).

    This is an implementation of the reconstruction head of `Visible and Clear: Finding Tiny
    Objects in Difference Map <https://arxiv.org/abs/2405.11276>`_ (SR-TOD, ECCV 2024).

    Args:
        in_channels (int): Channels C of the level it reconstructs from (the FPN's
            ``out_channels``).
        stride (int): Stride s of that level: log2(s) up-stages are stacked (P2: s=4 -> 2 stages,
            as in the paper; P3 for RetinaNet: s=8 -> 3). Defaults to 4.
        out_channels (int): Image channels. Defaults to 3.
        init_cfg (dict, optional): Initialization config. Defaults to None (PyTorch defaults).

    Example:
        >>> head = ReconstructionHead(in_channels=64, stride=4)
        >>> head(torch.rand(2, 64, 10, 13)).shape
        torch.Size([2, 3, 40, 52])
    """

    def __init__(self, in_channels: int, stride: int = 4, out_channels: int = 3,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        num_stages = int(round(math.log2(stride)))
        if stride < 2 or 2**num_stages != stride:
            raise ValueError(f"ReconstructionHead: stride must be a power of 2 >= 2, got {stride}")
        if in_channels % 2**num_stages:
            raise ValueError(f"ReconstructionHead: in_channels={in_channels} must be divisible by "
                             f"2**{num_stages} (channels halve at every up-stage)")
        self.in_channels, self.stride = in_channels, stride
        self.up = nn.Sequential(*(UpStage(in_channels // 2**i) for i in range(num_stages)))
        self.out_conv = nn.Conv2d(in_channels // 2**num_stages, out_channels, 3, padding=1)

    def forward(self, feat: Tensor) -> Tensor:
        """(N, C, H, W) level -> (N, 3, s*H, s*W) reconstruction in [0, 1]."""
        return torch.sigmoid(self.out_conv(self.up(feat)))


class _SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 convolution (MobileNet), ``c`` channels in and out."""

    def __init__(self, c: int) -> None:
        super().__init__(nn.Conv2d(c, c, 3, padding=1, groups=c), nn.Conv2d(c, c, 1))


@MODELS.register_module()
class LiteReconstructionHead(BaseModule):
    """A reconstruction head at a small fraction of the paper head's cost (same output).

    ``1x1 conv C -> width``, then per up-stage ``upsample x2 -> 3x3 conv -> ReLU`` at ``width``
    channels, then a 3x3 conv to the image and a sigmoid. The paper's head keeps C/2, C/4, ...
    channels and two 3x3 convolutions per stage, which at P2 and full resolution costs more than the
    whole ResNet-50 (issue 13); here the width is capped and the convolutions are cheap.

    Args:
        in_channels (int): Channels C of the level.
        stride (int): Stride s of the level (a power of 2).
        width (int): Channels of every up-stage. Defaults to 32.
        upsample (str): 'bilinear' (interpolation, no weights), 'pixelshuffle' (1x1 conv to
            4 * width channels, then PixelShuffle) or 'deconv' (4x4 transposed conv, stride 2, as
            the paper). Defaults to 'bilinear'.
        depthwise (bool): Depthwise-separable 3x3 convolutions instead of full ones. Defaults to
            True.
        out_stride (int): Reconstruct at 1/out_stride of the input and upsample the 3-channel
            image bilinearly (log2(out_stride) fewer up-stages; tiny objects of >= out_stride px
            survive). Defaults to 1.
        out_channels (int): Image channels. Defaults to 3.
        init_cfg (dict, optional): Initialization config.

    Example:
        >>> head = LiteReconstructionHead(in_channels=64, stride=4, out_stride=2)
        >>> head(torch.rand(2, 64, 10, 13)).shape
        torch.Size([2, 3, 40, 52])
    """

    UPSAMPLE = ("bilinear", "pixelshuffle", "deconv")

    def __init__(self, in_channels: int, stride: int = 4, width: int = 32,
                 upsample: str = "bilinear", depthwise: bool = True, out_stride: int = 1,
                 out_channels: int = 3, init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if upsample not in self.UPSAMPLE:
            raise ValueError(f"LiteReconstructionHead: upsample must be one of {self.UPSAMPLE}, "
                             f"got {upsample!r}")
        num_stages = int(round(math.log2(stride / out_stride)))
        if out_stride < 1 or stride % out_stride or 2**num_stages != stride // out_stride:
            raise ValueError(f"LiteReconstructionHead: stride / out_stride must be a power of 2 "
                             f"(stride={stride}, out_stride={out_stride})")
        self.in_channels, self.stride, self.out_stride = in_channels, stride, out_stride
        self.reduce = nn.Conv2d(in_channels, width, 1)
        stages = []
        for _ in range(num_stages):
            if upsample == "bilinear":
                up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            elif upsample == "pixelshuffle":
                up = nn.Sequential(nn.Conv2d(width, 4 * width, 1), nn.PixelShuffle(2))
            else:
                up = nn.ConvTranspose2d(width, width, kernel_size=4, stride=2, padding=1)
            conv = _SeparableConv(width) if depthwise else nn.Conv2d(width, width, 3, padding=1)
            stages.append(nn.Sequential(up, conv, nn.ReLU(inplace=True)))
        self.up = nn.Sequential(*stages)
        self.out_conv = nn.Conv2d(width, out_channels, 3, padding=1)

    def forward(self, feat: Tensor) -> Tensor:
        """(N, C, H, W) level -> (N, 3, s*H, s*W) reconstruction in [0, 1]."""
        img = torch.sigmoid(self.out_conv(self.up(self.reduce(feat))))
        if self.out_stride > 1:
            img = F.interpolate(img, scale_factor=self.out_stride, mode="bilinear",
                                align_corners=False)
        return img
