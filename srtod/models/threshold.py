"""Threshold t of the Filtration step, paper Eq. (4), in the variants of Tab. 5 and an adaptive one.

``D_b = (Sign(D - t) + 1) * 0.5``. Since ``d Sign(x)/dx = 0`` almost everywhere, a threshold that is
used only through ``Sign`` never receives a gradient: under mode ``'learnable'`` (the paper's formula,
as written) t changes only through the optimizer's weight decay, which srtod's schedules switch off
for t (``paramwise_cfg.custom_keys.threshold``; set its ``decay_mult=1`` for the official behaviour,
where SGD's decay shrinks t during training). Mode ``'learnable_ste'`` uses the same hard mask in the
forward pass and the gradient of the smooth surrogate ``sigmoid((D - t) / temperature)`` in the
backward pass (a straight-through estimator), so t really learns.

Mode ``'quantile'`` (not in the paper) sets t per image to the q-quantile of that image's D, so D_b
switches on the same share ``1 - q`` of every image's pixels however D's scale drifts while the
reconstruction head learns. Choose q with ``python -m srtod threshold`` (docs/threshold.md).
"""

from __future__ import annotations

import math

import torch
from mmdet.registry import MODELS
from torch import Tensor, nn

MODES = ("none", "fixed", "learnable", "learnable_ste", "quantile")


@MODELS.register_module()
class Threshold(nn.Module):
    """Binarizes a difference map D (N, 1, H, W) with threshold t.

    Args:
        mode (str): 'none' (no binarization: D passes unchanged), 'fixed', 'learnable' (paper
            formula; zero gradient), 'learnable_ste' (straight-through; t learns) or 'quantile'
            (t = the ``quantile`` of each image's D; the buffer ``t`` keeps the batch mean of the
            last forward pass, for logging).
        init (float): Initial t, in the units of D (image intensities in [0, 1]; the paper's
            official values are 40/255 DroneSwarms, 4/255 VisDrone, 3/255 AI-TOD).
        temperature (float): Width of the surrogate sigmoid of 'learnable_ste'.
        ste_grad (str): What the surrogate's gradient reaches under 'learnable_ste': 't' (default)
            only the threshold, D is detached; 'all' also D, so the detection loss trains the
            reconstruction head and backbone through D. 't' keeps the paper's gradient flow for
            everything but t (its hard ``Sign`` sends none into D: the head learns from the
            reconstruction loss alone), so the variant changes one thing, the threshold.
        quantile (float): q of mode 'quantile', in (0, 1): D_b is on for the share ``1 - q`` of
            each image's pixels (padding included: pad to a fixed size for exact shares).

    Example:
        >>> thr = Threshold(mode='quantile', quantile=0.75)
        >>> d = torch.arange(16.).reshape(1, 1, 4, 4)
        >>> int((thr(d) == 1).sum()), float(thr.t)
        (4, 11.0)
    """

    def __init__(self, mode: str = "learnable", init: float = 40 / 255,
                 temperature: float = 0.02, ste_grad: str = "t",
                 quantile: float | None = None) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"threshold mode must be one of {MODES}, got {mode!r}")
        if ste_grad not in ("t", "all"):
            raise ValueError(f"ste_grad must be 't' or 'all', got {ste_grad!r}")
        if (mode == "quantile") != (quantile is not None):
            raise ValueError("threshold: 'quantile' is required by mode 'quantile' and only "
                             f"allowed there (mode {mode!r}, quantile {quantile!r})")
        if quantile is not None and not 0 < quantile < 1:
            raise ValueError(f"threshold quantile must lie in (0, 1), got {quantile!r}")
        self.mode, self.temperature, self.ste_grad = mode, temperature, ste_grad
        self.quantile = quantile
        t = torch.tensor(float(init))
        if mode in ("learnable", "learnable_ste"):
            self.t = nn.Parameter(t)
        else:  # 'none' keeps no threshold at all (nothing in the state dict)
            self.register_buffer("t", None if mode == "none" else t)

    def _quantile_t(self, dmap: Tensor) -> Tensor:
        """Per-image q-quantile of D (N, 1, 1, 1): the k-th smallest value, k = ceil(q * H * W)."""
        flat = dmap.detach().flatten(1)
        k = min(max(math.ceil(self.quantile * flat.shape[1]), 1), flat.shape[1])
        t = flat.kthvalue(k, dim=1).values
        self.t = t.mean().to(self.t)
        return t[:, None, None, None]

    def forward(self, dmap: Tensor) -> Tensor:
        if self.mode == "none":
            return dmap
        t = self._quantile_t(dmap) if self.mode == "quantile" else self.t
        hard = (torch.sign(dmap - t) + 1) * 0.5
        if self.mode != "learnable_ste":
            return hard
        d = dmap.detach() if self.ste_grad == "t" else dmap
        soft = torch.sigmoid((d - self.t) / self.temperature)
        return hard.detach() + (soft - soft.detach())  # value: hard; gradient: soft

    def extra_repr(self) -> str:
        t = "none" if self.t is None else f"{float(self.t.detach()):.4f}"
        ste = f", ste_grad={self.ste_grad!r}" if self.mode == "learnable_ste" else ""
        q = f", quantile={self.quantile}" if self.mode == "quantile" else ""
        return f"mode={self.mode!r}, t={t}{ste}{q}"
