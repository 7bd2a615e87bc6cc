"""Image-space figures: difference maps and feature heatmaps (SR-TOD paper, Fig. 1, 3 and 4).

Inputs are plain arrays in image pixel coordinates (see :mod:`srtod.viz._common`); boxes are
x1y1x2y2, zoom windows ``(x0, y0, x1, y1)`` with exclusive ends.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._common import Zoom, as_boxes, clip_zoom, draw_boxes, new_figure, resize_map, show, to_rgb

_HEAT_CMAP = "turbo"  # feature heatmaps, as the jet-like maps of Fig. 1c / Fig. 4
_DIFF_CMAP = "inferno"  # difference maps (Fig. 1e, Fig. 3)
_GT_STYLE = "GT boxes: yellow dotted"


def default_zoom_size(image_shape: tuple[int, ...]) -> int:
    """Side of the default zoom window: a third of the shorter image side, at least 48 px."""
    return max(48, int(round(min(image_shape[0], image_shape[1]) / 3)))


def choose_zoom(
    gt_boxes: np.ndarray | None, image_shape: tuple[int, ...], size: int | None = None
) -> Zoom:
    """Square window ``(x0, y0, x1, y1)`` of side ``size`` (clipped to the image) that contains
    the most ground-truth box centres, centred on them as well as possible (Fig. 1b's zoom).

    Counts use a grid of at most 512 cells per side (exact for images up to 512 px); without
    boxes the window is centred in the image. ``size`` defaults to :func:`default_zoom_size`.
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    side = default_zoom_size(image_shape) if size is None else int(size)
    sw, sh = max(1, min(side, w)), max(1, min(side, h))
    boxes = as_boxes(gt_boxes)
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    keep = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
    cx, cy = cx[keep], cy[keep]
    if len(cx) == 0:
        x0, y0 = (w - sw) // 2, (h - sh) // 2
        return x0, y0, x0 + sw, y0 + sh

    step = max(1, math.ceil(max(h, w) / 512))
    nx, ny = math.ceil(w / step), math.ceil(h / step)
    wx, wy = max(1, sw // step), max(1, sh // step)
    ix = np.clip((cx // step).astype(int), 0, nx - 1)
    iy = np.clip((cy // step).astype(int), 0, ny - 1)

    def window_sums(weights: np.ndarray) -> np.ndarray:
        grid = np.zeros((ny + 1, nx + 1))
        np.add.at(grid, (iy + 1, ix + 1), weights)
        s = grid.cumsum(0).cumsum(1)
        return s[wy:, wx:] - s[:-wy, wx:] - s[wy:, :-wx] + s[:-wy, :-wx]

    count = window_sums(np.ones_like(cx))
    sum_x, sum_y = window_sums(cx), window_sums(cy)
    best = count == count.max()
    py, px = np.nonzero(best)
    n = count[py, px]
    centre_x = px * step + sw / 2
    centre_y = py * step + sh / 2
    dist = (sum_x[py, px] / n - centre_x) ** 2 + (sum_y[py, px] / n - centre_y) ** 2
    k = int(np.argmin(dist))
    x0 = int(min(px[k] * step, w - sw))
    y0 = int(min(py[k] * step, h - sh))
    return x0, y0, x0 + sw, y0 + sh


def _zoom_of(zoom: Zoom | None, boxes: np.ndarray, shape: tuple[int, ...]) -> Zoom:
    return choose_zoom(boxes, shape) if zoom is None else clip_zoom(zoom, shape)


def _check_map(name: str, arr: np.ndarray, shape: tuple[int, int], ndim: int) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != ndim or a.shape[:2] != shape:
        raise ValueError(f"{name} must have shape {shape}{' x 3' if ndim == 3 else ''}, "
                         f"got {a.shape}")
    return a


def _vmax(arr: np.ndarray) -> float:
    finite = np.asarray(arr, dtype=float)[np.isfinite(arr)]
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def plot_difference_maps(
    image: np.ndarray,
    gt_boxes: np.ndarray | None,
    recon: np.ndarray,
    dmap: np.ndarray,
    mask: np.ndarray,
    feature: np.ndarray,
    zoom: Zoom | None = None,
    title: str = "",
) -> Figure:
    """Fig. 1 analog: a) image with GT boxes and the zoom window, b) zoom, c) finest FPN level
    heatmap (channel mean of |P2|, resized to the image), d) reconstruction I_r, e) difference
    map D = mean_c |I_r - I_o| (Eq. 3), f) binary map D_b (Eq. 4); b-f cropped to the zoom.

    Six image axes plus two colorbars (c, e). ``zoom`` defaults to :func:`choose_zoom`.
    """
    img = to_rgb(image)
    shape = img.shape[:2]
    recon = np.clip(np.nan_to_num(_check_map("recon", recon, shape, 3).astype(float)), 0, 1)
    dmap = _check_map("dmap", dmap, shape, 2).astype(float)
    mask = _check_map("mask", mask, shape, 2).astype(float)
    feat = resize_map(np.asarray(feature), shape)
    boxes = as_boxes(gt_boxes)
    zoom = _zoom_of(zoom, boxes, shape)
    x0, y0, x1, y1 = zoom
    crop = (slice(y0, y1), slice(x0, x1))

    fig = new_figure((13.5, 8.6))
    ax = fig.subplots(2, 3).ravel()

    show(ax[0], img)
    draw_boxes(ax[0], boxes, color="lime", linestyle="-", linewidth=0.8)
    ax[0].add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=2.2))
    ax[0].set_title(f"a) image, {len(boxes)} GT boxes (green), zoom (red)")

    show(ax[1], img[crop], zoom)
    ax[1].set_title(f"b) zoom x {x0}-{x1}, y {y0}-{y1}")

    im = show(ax[2], feat[crop], zoom, cmap=_HEAT_CMAP, interpolation="bilinear")
    fig.colorbar(im, ax=ax[2], shrink=0.85, label="mean |P2| over channels (a.u.)")
    ax[2].set_title("c) FPN P2 feature heatmap")

    show(ax[3], recon[crop], zoom)
    ax[3].set_title("d) reconstruction $I_r$")

    d = dmap[crop]
    im = show(ax[4], d, zoom, cmap=_DIFF_CMAP, vmin=0.0, vmax=_vmax(d))
    fig.colorbar(im, ax=ax[4], shrink=0.85, label="$D$ = mean$_c$ |$I_r - I_o$|")
    ax[4].set_title("e) difference map $D$")

    m = mask[crop] > 0.5
    show(ax[5], m.astype(float), zoom, cmap="gray", vmin=0.0, vmax=1.0)
    ax[5].set_title(f"f) binary map $D_b$ ({m.mean():.1%} of zoom on)")

    for a in ax[1:]:
        draw_boxes(a, boxes)
    head = title or "Self-reconstruction difference map (cf. SR-TOD Fig. 1)"
    fig.suptitle(f"{head}\n{_GT_STYLE} in b-f", fontsize=13)
    return fig


def plot_pd_vs_hfd(
    image: np.ndarray,
    gt_boxes: np.ndarray | None,
    dmap_pixel: np.ndarray,
    dmap_highfreq: np.ndarray,
    zoom: Zoom | None = None,
) -> Figure:
    """Fig. 3 analog: image crop, pixel difference map (PD) and high-frequency difference map
    (HFD), each with GT boxes. Three image axes plus two colorbars (own scale per map)."""
    img = to_rgb(image)
    shape = img.shape[:2]
    pd_map = _check_map("dmap_pixel", dmap_pixel, shape, 2).astype(float)
    hfd_map = _check_map("dmap_highfreq", dmap_highfreq, shape, 2).astype(float)
    boxes = as_boxes(gt_boxes)
    zoom = _zoom_of(zoom, boxes, shape)
    x0, y0, x1, y1 = zoom
    crop = (slice(y0, y1), slice(x0, x1))

    fig = new_figure((14, 5.2))
    ax = fig.subplots(1, 3)
    show(ax[0], img[crop], zoom)
    ax[0].set_title(f"a) image, zoom x {x0}-{x1}, y {y0}-{y1}")
    for a, arr, name, label in (
        (ax[1], pd_map, "b) pixel difference map (PD)", "|$I_r - I_o$| (channel mean)"),
        (ax[2], hfd_map, "c) high-frequency difference map (HFD)", "|HF($I_r$) - HF($I_o$)|"),
    ):
        d = arr[crop]
        im = show(a, d, zoom, cmap=_DIFF_CMAP, vmin=0.0, vmax=_vmax(d))
        fig.colorbar(im, ax=a, shrink=0.85, label=label)
        a.set_title(name)
    for a in ax:
        draw_boxes(a, boxes)
    fig.suptitle(f"Pixel vs high-frequency difference maps (cf. SR-TOD Fig. 3); {_GT_STYLE}")
    return fig


def plot_feature_comparison(
    crops: list[np.ndarray],
    feats_baseline: list[np.ndarray],
    feats_srtod: list[np.ndarray],
    boxes: list[np.ndarray | None] | None = None,
) -> Figure:
    """Fig. 4 analog: rows = input crops, finest-level features w/o SR-TOD, w/ SR-TOD; one
    column per crop. Heatmaps are resized to the crop and share one colour scale per column
    (one colorbar per column under rows 2-3): 3 * n image axes plus n colorbars."""
    n = len(crops)
    if n == 0:
        raise ValueError("need at least one crop")
    if len(feats_baseline) != n or len(feats_srtod) != n:
        raise ValueError("crops, feats_baseline and feats_srtod must have the same length")
    if boxes is not None and len(boxes) != n:
        raise ValueError("boxes must have one entry per crop")

    fig = new_figure((2.9 * n + 1.2, 8.8))
    ax = fig.subplots(3, n, squeeze=False)
    for j in range(n):
        img = to_rgb(crops[j])
        shape = img.shape[:2]
        f_base = resize_map(feats_baseline[j], shape)
        f_sr = resize_map(feats_srtod[j], shape)
        vmin = float(min(f_base.min(), f_sr.min()))
        vmax = float(max(f_base.max(), f_sr.max()))
        if vmax <= vmin:
            vmax = vmin + 1.0
        show(ax[0, j], img)
        im = None
        for i, f in ((1, f_base), (2, f_sr)):
            im = show(ax[i, j], f, cmap=_HEAT_CMAP, vmin=vmin, vmax=vmax, interpolation="bilinear")
        fig.colorbar(im, ax=[ax[1, j], ax[2, j]], location="bottom", shrink=0.9,
                     label="mean |P2| (a.u.)")
        ax[0, j].set_title(f"crop {j + 1}")
        for i in range(3):
            draw_boxes(ax[i, j], None if boxes is None else boxes[j])
    for i, label in enumerate(("input", "w/o SR-TOD", "w/ SR-TOD")):
        ax[i, 0].set_ylabel(label, fontsize=12)
    extra = f"; {_GT_STYLE}" if boxes is not None else ""
    fig.suptitle(f"Finest FPN level features w/o and w/ SR-TOD (cf. SR-TOD Fig. 4){extra}")
    return fig
