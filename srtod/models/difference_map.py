"""Difference maps between the reconstruction I_r and the input I_o (paper Eq. (3) and Sec. 4.4).

All maps have shape (N, 1, H, W) for images of shape (N, 3, H, W) in [0, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor


def pixel_difference_map(recon: Tensor, target: Tensor) -> Tensor:
    """``D = Mean_channel(|I_r - I_o|)``, paper Eq. (3) (PD in Tab. 7)."""
    return (recon - target).abs().mean(dim=1, keepdim=True)


def high_pass(img: Tensor, cutoff: float) -> Tensor:
    """Ideal high-pass filter in the 2-D Fourier domain.

    Removes every frequency whose normalised radius ``sqrt(fy^2 + fx^2)`` (cycles per pixel, at
    most ~0.71) is below ``cutoff``; returns the real part of the inverse transform.
    """
    h, w = img.shape[-2:]
    fy = torch.fft.fftfreq(h, device=img.device).abs()[:, None]
    fx = torch.fft.rfftfreq(w, device=img.device)[None, :]
    keep = (fy**2 + fx**2).sqrt() >= cutoff
    spec = torch.fft.rfft2(img.float(), norm="ortho") * keep
    return torch.fft.irfft2(spec, s=(h, w), norm="ortho").to(img.dtype)


def highfreq_difference_map(recon: Tensor, target: Tensor, cutoff: float = 0.1) -> Tensor:
    """High-frequency difference map (HFD, paper Sec. 4.4 and Tab. 7).

    ``D = Mean_channel(|HP(I_r) - HP(I_o)|)`` with ``HP`` the FFT high-pass :func:`high_pass`.
    """
    return (high_pass(recon, cutoff) - high_pass(target, cutoff)).abs().mean(dim=1, keepdim=True)


def difference_map(recon: Tensor, target: Tensor, kind: str = "pixel",
                   cutoff: float = 0.1) -> Tensor:
    """Dispatch on ``kind`` ('pixel' or 'highfreq')."""
    if kind == "pixel":
        return pixel_difference_map(recon, target)
    if kind == "highfreq":
        return highfreq_difference_map(recon, target, cutoff)
    raise ValueError(f"difference map kind must be 'pixel' or 'highfreq', got {kind!r}")
