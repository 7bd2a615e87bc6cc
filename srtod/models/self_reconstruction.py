"""The SR-TOD block on one pyramid level: RH -> difference map -> DGFE (paper Fig. 2).

Glossary: N batch, L pyramid levels, C channels, H x W the network input's size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from . import reconstruction_head  # noqa: F401  (registers the heads)
from .difference_map import difference_map


def align_to(img: Tensor, size: Sequence[int]) -> Tensor:
    """Crop (or, if smaller, resize) a reconstruction (N, 3, h, w) to the input's ``size``.

    A level of an input whose side is not a multiple of the stride is rounded up, so the
    reconstruction can be a few pixels larger than the input: the excess is cropped.
    """
    h, w = size
    if img.shape[-2] >= h and img.shape[-1] >= w:
        return img[..., :h, :w]
    return F.interpolate(img, size=(h, w), mode="bilinear", align_corners=False)


@MODELS.register_module()
class SelfReconstruction(BaseModule):
    """Self-reconstruction on one pyramid level, with optional DGFE enhancement.

    This is an implementation of SR-TOD from `Visible and Clear: Finding Tiny Objects in
    Difference Map <https://arxiv.org/abs/2405.11276>`_ (Cao et al., ECCV 2024). The level is
    reconstructed to the input image (Eq. 1-2), ``D = Mean_channel(|I_r - I_o|)`` (Eq. 3) and DGFE
    (Eq. 4-6) returns the enhanced level, which replaces the original for the detection head.

    Args:
        in_channels (int): Channels C of the level.
        level (int): Index of the level in the neck's outputs. Defaults to 0 (the finest).
        stride (int): Stride of that level (4 for P2, 8 for P3). Defaults to 4.
        recon_head (dict): Reconstruction head config without ``in_channels`` and ``stride``:
            :class:`ReconstructionHead` (the paper's, default) or :class:`LiteReconstructionHead`.
        dgfe (dict, optional): :class:`DGFE` config without ``in_channels``; ``None`` gives the
            "RH only" row of Tab. 4 (reconstruction loss, features unchanged; at inference the
            reconstruction is skipped, since nothing uses it).
        diff_map (dict): ``kind`` 'pixel' (Eq. 3) or 'highfreq' (Tab. 7) and its ``cutoff``.
        loss_rec (dict): Reconstruction loss. Defaults to MSE with weight 1.0.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self, in_channels: int, level: int = 0, stride: int = 4,
                 recon_head: ConfigType = dict(type="ReconstructionHead"),
                 dgfe: OptConfigType = dict(type="DGFE"),
                 diff_map: ConfigType = dict(kind="pixel", cutoff=0.1),
                 loss_rec: ConfigType = dict(type="mmdet.MSELoss", loss_weight=1.0),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.level = level
        self.diff_map = dict(diff_map)
        self.recon_head = MODELS.build(dict(recon_head, in_channels=in_channels, stride=stride))
        self.dgfe = MODELS.build(dict(dgfe, in_channels=in_channels)) if dgfe else None
        self.loss_rec = MODELS.build(loss_rec)
        self._records: list[dict[str, Tensor]] | None = None

    def forward(self, feats: Sequence[Tensor], target: Tensor) -> tuple[tuple[Tensor, ...], dict]:
        """Reconstruct and (with DGFE) enhance level ``self.level``.

        Args:
            feats: the neck's outputs, L tensors (N, C_l, h_l, w_l).
            target: I_o, the network input as RGB in [0, 1], (N, 3, H, W).

        Returns:
            The L levels with level ``self.level`` replaced, and a dict with ``level`` the original
            level, ``recon`` I_r (N, 3, H, W), ``dmap`` D (N, 1, H, W) and, with DGFE, ``mask``
            (N, 1, H, W), ``mask_level`` and ``feat`` (the enhanced level).
        """
        feat = feats[self.level]
        if self.dgfe is None and not self.training and self._records is None:
            return tuple(feats), dict(level=feat)  # RH only: D changes nothing at inference
        recon = align_to(self.recon_head(feat), target.shape[-2:])
        out = dict(level=feat, recon=recon, dmap=difference_map(recon, target, **self.diff_map))
        if self.dgfe is not None:
            out.update(self.dgfe(feat, out["dmap"]))
            feats = (*feats[: self.level], out["feat"], *feats[self.level + 1:])
        if self._records is not None:
            self._records.append({k: v.detach() for k, v in out.items()})
        return tuple(feats), out

    def loss(self, out: dict, target: Tensor) -> dict[str, Tensor]:
        """Reconstruction loss, plus logged values (not summed: no 'loss' in their names): the
        threshold t and ``srtod_on``, the share of the batch's pixels D_b switches on (near 0: t is
        above D almost everywhere and DGFE's spatial term is idle; see ``srtod threshold``)."""
        losses = dict(loss_rec=self.loss_rec(out["recon"], target))
        if self.dgfe is not None and self.dgfe.threshold.mode != "none":
            losses["srtod_t"] = self.dgfe.threshold.t.detach().clone()
            losses["srtod_on"] = (out["mask"].detach() == 1).float().mean()
        return losses

    @contextlib.contextmanager
    def record(self) -> Iterator[list[dict[str, Tensor]]]:
        """Keep the intermediate maps of every forward pass run inside the ``with`` block."""
        self._records = []
        try:
            yield self._records
        finally:
            self._records = None


@contextlib.contextmanager
def record_intermediates(model: nn.Module) -> Iterator[list[dict[str, Tensor]]]:
    """Read out I_r, D, D_b and the enhanced level of a model's forward passes (for the figures),
    without a second forward pass::

        with record_intermediates(model) as records:
            model.test_step(batch)
        records[0]['dmap']  # (N, 1, H, W)
    """
    blocks = [m for m in model.modules() if isinstance(m, SelfReconstruction)]
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no SelfReconstruction block (not an SR-TOD model)")
    with blocks[0].record() as records:
        yield records


def input_to_unit_range(inputs: Tensor, data_preprocessor: nn.Module) -> Tensor:
    """Undo the preprocessor's normalisation: I_o in [0, 1], same resize, flip and padding as the
    network input (N, 3, H, W). Channel order is the network's (RGB with ``bgr_to_rgb=True``)."""
    if getattr(data_preprocessor, "_enable_normalize", False):
        inputs = inputs * data_preprocessor.std + data_preprocessor.mean
    return (inputs / 255.0).clamp_(0.0, 1.0)


__all__ = ["SelfReconstruction", "record_intermediates", "input_to_unit_range", "align_to"]
