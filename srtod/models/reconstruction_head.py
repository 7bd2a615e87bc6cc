"""Reconstruction head (RH) of SR-TOD, paper Sec. 3.2, Eq. (1)-(2).

Glossary: N batch, C channels of the FPN level, H x W the level's size, s its stride.
"""

from __future__ import annotations

import math

import torch
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
