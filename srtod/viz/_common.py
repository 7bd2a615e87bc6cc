"""Shared helpers for :mod:`srtod.viz`: figure creation, saving, boxes, heatmap resizing.

Pixel convention (as in :mod:`srtod.evaluation.coverage`): pixel ``(r, c)`` is the unit square
``[c, c+1) x [r, r+1)``, so images are drawn with ``extent=(0, W, H, 0)`` and x1y1x2y2 boxes in
pixel coordinates line up exactly. A zoom window is ``(x0, y0, x1, y1)`` with exclusive ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from PIL import Image

from ..evaluation.protocols import aitod_side_buckets

#: AI-TOD size buckets on sqrt(w * h) in px (lower bound inclusive), as in the paper's Tab. 1-3.
BUCKETS: dict[str, tuple[str, float, float]] = {
    key: (name, lo, hi) for key, name, lo, hi in aitod_side_buckets()}
#: Display order of bucket keys; ``all`` = every size.
BUCKET_ORDER: tuple[str, ...] = ("all", "vt", "t", "s", "m")

Zoom = tuple[int, int, int, int]


def bucket_label(key: str) -> str:
    """Readable name of a bucket key, e.g. ``'vt'`` -> ``'very tiny (<8 px)'``."""
    if key == "all":
        return "all sizes"
    if key not in BUCKETS:
        return str(key)
    name, lo, hi = BUCKETS[key]
    if lo == 0:
        return f"{name} (<{hi:g} px)"
    if math.isinf(hi):
        return f"{name} (\u2265{lo:g} px)"
    return f"{name} ({lo:g}-{hi:g} px)"


def order_keys(keys, order: tuple[str, ...] = BUCKET_ORDER) -> list[str]:
    """Unique ``keys`` sorted by ``order``; unknown keys keep their first-seen order at the end."""
    seen = list(dict.fromkeys(str(k) for k in keys))
    return [k for k in order if k in seen] + [k for k in seen if k not in order]


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A pyplot-free :class:`Figure` with constrained layout (no global figure registry)."""
    return Figure(figsize=figsize, layout="constrained")


@contextmanager
def styled(style: str = "whitegrid") -> Iterator[None]:
    """Context in which new axes get the seaborn ``style`` (rcParams restored afterwards)."""
    import seaborn as sns

    with sns.axes_style(style):
        yield


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG at 120 dpi (parent folders created) and close it; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, format="png")
    import matplotlib.pyplot as plt  # only to release figures that pyplot may be tracking

    plt.close(fig)
    return path


def as_boxes(boxes: np.ndarray | None) -> np.ndarray:
    """``(K, 4)`` float x1y1x2y2 array from ``boxes`` (``None`` or empty -> ``(0, 4)``)."""
    if boxes is None:
        return np.zeros((0, 4))
    arr = np.asarray(boxes, dtype=float)
    if arr.size == 0:
        return np.zeros((0, 4))
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4) x1y1x2y2, got {arr.shape}")
    return arr


def draw_boxes(
    ax: Axes,
    boxes: np.ndarray | None,
    *,
    color: str = "yellow",
    linestyle: str = ":",
    linewidth: float = 1.6,
    offset: tuple[float, float] = (0.0, 0.0),
) -> int:
    """Draw x1y1x2y2 ``boxes`` (shifted by ``-offset``) on ``ax``; returns how many were drawn."""
    arr = as_boxes(boxes)
    dx, dy = offset
    for x1, y1, x2, y2 in arr:
        ax.add_patch(
            Rectangle(
                (x1 - dx, y1 - dy), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                linestyle=linestyle, linewidth=linewidth,
            )
        )
    return len(arr)


def resize_map(arr: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``shape = (H, W)`` (float32; NaN treated as 0)."""
    a = np.nan_to_num(np.asarray(arr, dtype=np.float32))
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D map, got shape {a.shape}")
    h, w = int(shape[0]), int(shape[1])
    if a.shape == (h, w):
        return a
    img = Image.fromarray(a).resize((w, h), resample=Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def clip_zoom(zoom: Zoom, shape: tuple[int, ...]) -> Zoom:
    """``zoom`` clipped to an image of ``shape`` (H, W, ...); at least one pixel wide."""
    h, w = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = (int(round(v)) for v in zoom)
    x0, y0 = min(max(x0, 0), w - 1), min(max(y0, 0), h - 1)
    x1, y1 = min(max(x1, x0 + 1), w), min(max(y1, y0 + 1), h)
    return x0, y0, x1, y1


def show(ax: Axes, arr: np.ndarray, zoom: Zoom | None = None, **kwargs) -> AxesImage:
    """``imshow`` of ``arr`` (the full image or the crop ``zoom`` of it, already cut) in image
    pixel coordinates, axis decorations off."""
    h, w = arr.shape[:2]
    x0, y0 = (zoom[0], zoom[1]) if zoom is not None else (0, 0)
    kwargs.setdefault("interpolation", "nearest")
    im = ax.imshow(arr, extent=(x0, x0 + w, y0 + h, y0), **kwargs)
    ax.set_xlim(x0, x0 + w)
    ax.set_ylim(y0 + h, y0)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def to_rgb(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB (gray images are stacked, floats in [0, 1] scaled)."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        scale = 255.0 if np.nanmax(arr, initial=0) <= 1.0 else 1.0
        arr = np.clip(np.nan_to_num(arr.astype(float)) * scale, 0, 255).astype(np.uint8)
    return arr

