"""Threshold t of the Filtration step, paper Eq. (4), in the variants of Tab. 5.

``D_b = (Sign(D - t) + 1) * 0.5``. Since ``d Sign(x)/dx = 0`` almost everywhere, a threshold that is
used only through ``Sign`` never receives a gradient: under mode ``'learnable'`` (the paper's formula,
as written) t changes only through the optimizer's weight decay, which srtod's schedules switch off
for t (``paramwise_cfg.custom_keys.threshold``; set its ``decay_mult=1`` for the official behaviour,
where SGD's decay shrinks t during training). Mode ``'learnable_ste'`` uses the same hard mask in the
forward pass and the gradient of the smooth surrogate ``sigmoid((D - t) / temperature)`` in the
backward pass (a straight-through estimator), so t really learns.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

MODES = ("none", "fixed", "learnable", "learnable_ste")


class Threshold(nn.Module):
    """Binarizes a difference map D (N, 1, H, W) with threshold t.

    Args:
        mode (str): 'none' (no binarization: D passes unchanged), 'fixed', 'learnable' (paper
            formula; zero gradient) or 'learnable_ste' (straight-through; t learns).
        init (float): Initial t, in the units of D (image intensities in [0, 1]; the paper's
            official values are 40/255 DroneSwarms, 4/255 VisDrone, 3/255 AI-TOD).
        temperature (float): Width of the surrogate sigmoid of 'learnable_ste'.
        ste_grad (str): What the surrogate's gradient reaches under 'learnable_ste': 't' (default)
            only the threshold, D is detached; 'all' also D, so the detection loss trains the
            reconstruction head and backbone through D. 't' keeps the paper's gradient flow for
            everything but t (its hard ``Sign`` sends none into D: the head learns from the
            reconstruction loss alone), so the variant changes one thing, the threshold.
    """

    def __init__(self, mode: str = "learnable", init: float = 40 / 255,
                 temperature: float = 0.02, ste_grad: str = "t") -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"threshold mode must be one of {MODES}, got {mode!r}")
        if ste_grad not in ("t", "all"):
            raise ValueError(f"ste_grad must be 't' or 'all', got {ste_grad!r}")
        self.mode, self.temperature, self.ste_grad = mode, temperature, ste_grad
        t = torch.tensor(float(init))
        if mode in ("learnable", "learnable_ste"):
            self.t = nn.Parameter(t)
        else:  # 'none' keeps no threshold at all (nothing in the state dict)
            self.register_buffer("t", t if mode == "fixed" else None)

    def forward(self, dmap: Tensor) -> Tensor:
        if self.mode == "none":
            return dmap
        hard = (torch.sign(dmap - self.t) + 1) * 0.5
        if self.mode != "learnable_ste":
            return hard
        d = dmap.detach() if self.ste_grad == "t" else dmap
        soft = torch.sigmoid((d - self.t) / self.temperature)
        return hard.detach() + (soft - soft.detach())  # value: hard; gradient: soft

    def extra_repr(self) -> str:
        t = "none" if self.t is None else f"{float(self.t.detach()):.4f}"
        ste = f", ste_grad={self.ste_grad!r}" if self.mode == "learnable_ste" else ""
        return f"mode={self.mode!r}, t={t}{ste}"
