"""Difference map Guided Feature Enhancement (DGFE), paper Sec. 3.3, Eq. (4)-(6), and the
alternative fusions of Tab. 6.

Glossary: N batch, C channels, h x w the level's size, H x W the input image's size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from . import threshold as _threshold  # noqa: F401  (registers Threshold)

FUSIONS = ("attention", "multiply", "concat")
RESIZE_MODES = ("nearest", "bilinear", "max")


def resize_mask(mask: Tensor, size: tuple[int, int], mode: str = "nearest") -> Tensor:
    """``Resize`` of Eq. (4): (N, 1, H, W) -> (N, 1, h, w).

    'nearest' and 'bilinear' interpolate; 'max' max-pools so a mask pixel of an object smaller
    than the stride is never lost.
    """
    if mode == "max":
        return F.adaptive_max_pool2d(mask, size)
    if mode == "bilinear":
        return F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    if mode == "nearest":
        return F.interpolate(mask, size=size, mode="nearest")
    raise ValueError(f"resize mode must be one of {RESIZE_MODES}, got {mode!r}")


class ChannelReweighting(nn.Module):
    """``Reweighting(P) = Sigmoid(MLP(AvgPool(P)) + MLP(MaxPool(P)))``, Eq. (5): (N, C, 1, 1).

    The MLP (two fully connected layers with a ReLU, hidden size C / reduction) is shared by both
    pooled descriptors.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, channels))

    def forward(self, feat: Tensor) -> Tensor:
        avg = self.mlp(feat.mean(dim=(2, 3)))
        mx = self.mlp(feat.amax(dim=(2, 3)))
        return torch.sigmoid(avg + mx)[:, :, None, None]


@MODELS.register_module()
class DGFE(BaseModule):
    """Difference map Guided Feature Enhancement.

    This is an implementation of DGFE from `Visible and Clear: Finding Tiny Objects in Difference
    Map <https://arxiv.org/abs/2405.11276>`_. With ``fusion='attention'`` (the paper's EA):

    ``P' = (Reweighting(P) x Filtration(D)) x P`` with ``Filtration(D) = Resize(D_b) + 1``, Eq. (6).

    The Tab. 6 alternatives: ``'multiply'`` (EM) ``P' = Resize(D_b) x P``; ``'concat'``
    ``P' = Conv1x1([P, Resize(D_b)])``.

    Args:
        in_channels (int): Channels C of the enhanced level.
        reduction (int): MLP reduction of the reweighting. Defaults to 16.
        threshold (dict): Config of the threshold module, built from mmdet's ``MODELS`` registry
            (``type`` defaults to :class:`~srtod.models.threshold.Threshold`: mode, init,
            temperature, quantile). Defaults to ``dict(mode='learnable', init=40/255)``.
        fusion (str): 'attention' (default), 'multiply' or 'concat'.
        resize_mode (str): 'nearest' (default), 'bilinear' or 'max', see :func:`resize_mask`.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Example:
        >>> dgfe = DGFE(in_channels=32)
        >>> out = dgfe(torch.rand(2, 32, 8, 8), torch.rand(2, 1, 32, 32))
        >>> out['feat'].shape, out['mask'].shape
        (torch.Size([2, 32, 8, 8]), torch.Size([2, 1, 32, 32]))
    """

    def __init__(self, in_channels: int, reduction: int = 16, threshold: dict | None = None,
                 fusion: str = "attention", resize_mode: str = "nearest",
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fusion not in FUSIONS:
            raise ValueError(f"DGFE fusion must be one of {FUSIONS}, got {fusion!r}")
        if resize_mode not in RESIZE_MODES:
            raise ValueError(f"DGFE resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}")
        self.fusion, self.resize_mode = fusion, resize_mode
        self.threshold = MODELS.build({"type": "Threshold", **(threshold or {})})
        if fusion == "attention":
            self.reweighting = ChannelReweighting(in_channels, reduction)
        elif fusion == "concat":
            self.fuse = nn.Conv2d(in_channels + 1, in_channels, kernel_size=1)

    def forward(self, feat: Tensor, dmap: Tensor) -> dict[str, Tensor]:
        """Enhance ``feat`` (N, C, h, w) with the difference map ``dmap`` (N, 1, H, W).

        Returns a dict: ``feat`` the enhanced level (N, C, h, w), ``mask`` the binary map D_b
        (N, 1, H, W) (D itself for threshold mode 'none'), ``mask_level`` Resize(D_b) (N, 1, h, w).
        """
        mask = self.threshold(dmap)
        mask_level = resize_mask(mask, feat.shape[-2:], self.resize_mode)
        if self.fusion == "attention":
            out = self.reweighting(feat) * (mask_level + 1) * feat
        elif self.fusion == "multiply":
            out = mask_level * feat
        else:
            out = self.fuse(torch.cat([feat, mask_level], dim=1))
        return dict(feat=out, mask=mask, mask_level=mask_level)
