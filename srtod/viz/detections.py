"""Per-image visualisations for ``python -m srtod predict SOURCE``: detections drawn on the image
and, for SR-TOD models, the difference map D and binary map D_b overlaid on it, side by side.

Unlike the paper figures of :mod:`srtod.viz.maps` (matplotlib), these are drawn with OpenCV on the
image's own pixels, fast enough for every image of a folder or every frame of a video. Images are
BGR uint8 (as ``cv2.imread``), boxes x1y1x2y2 in image pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_BOX_BGR = (0, 255, 0)
_MASK_BGR = (0, 0, 255)


def _thickness(shape: tuple[int, ...]) -> int:
    return max(1, int(round(min(shape[:2]) / 500)))


def _label(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color) -> None:
    import cv2

    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = org
    y = max(y, th + base)
    cv2.rectangle(img, (x, y - th - base), (x + tw, y), (0, 0, 0), -1)
    cv2.putText(img, text, (x, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick,
                cv2.LINE_AA)


def draw_detections(image: np.ndarray, bboxes: np.ndarray, scores: np.ndarray,
                    labels: np.ndarray, class_names: Sequence[str] | None = None,
                    *, title: str | None = None) -> np.ndarray:
    """A copy of ``image`` with each box and its ``class score`` drawn (classes named when more
    than one), and ``title`` in the top-left corner."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    thick = _thickness(out.shape)
    scale = max(0.3, min(out.shape[:2]) / 1200)
    many = class_names is not None and len(class_names) > 1
    for (x1, y1, x2, y2), score, label in zip(bboxes, scores, labels, strict=True):
        p1 = (int(np.floor(x1)), int(np.floor(y1)))
        p2 = (int(np.ceil(x2)), int(np.ceil(y2)))
        cv2.rectangle(out, p1, p2, _BOX_BGR, thick)
        name = f"{class_names[int(label)]} " if many and int(label) < len(class_names) else ""
        _label(out, f"{name}{score:.2f}", (p1[0], p1[1] - 1), scale * 0.8, _BOX_BGR)
    if title:
        _label(out, title, (0, 0), scale * 1.2, (255, 255, 255))
    return out


def overlay_difference_map(image: np.ndarray, dmap: np.ndarray, *, alpha: float = 0.65,
                           vmax: float | None = None) -> np.ndarray:
    """D (Eq. 3) as an inferno heat map over the dimmed gray image; ``vmax`` defaults to D's
    maximum."""
    import cv2
    from matplotlib import colormaps

    d = np.nan_to_num(np.asarray(dmap, np.float32))
    top = float(d.max()) if vmax is None else float(vmax)
    norm = np.clip(d / (top if top > 0 else 1.0), 0, 1)
    lut = (colormaps["inferno"](np.linspace(0, 1, 256))[:, 2::-1] * 255).astype(np.uint8)
    heat = lut[(norm * 255).astype(np.uint8)]
    gray = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(gray, 1 - alpha, heat, alpha, 0)


def overlay_mask(image: np.ndarray, mask: np.ndarray, *, alpha: float = 0.8) -> np.ndarray:
    """D_b (Eq. 4): the pixels it switches on in red over the dimmed image."""
    out = (image.astype(np.float32) * 0.5).astype(np.uint8)
    on = np.asarray(mask) > 0.5
    out[on] = (out[on] * (1 - alpha) + np.array(_MASK_BGR) * alpha).astype(np.uint8)
    return out


def render_prediction(image: np.ndarray, bboxes: np.ndarray, scores: np.ndarray,
                      labels: np.ndarray, class_names: Sequence[str] | None = None,
                      maps: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The visualisation of one image: detections, then (when ``maps`` holds them) D and D_b
    overlaid on the image, side by side with a gap of a few pixels; BGR uint8."""
    panels = [draw_detections(image, bboxes, scores, labels, class_names,
                              title=f"{len(bboxes)} detections")]
    maps = maps or {}
    if "dmap" in maps:
        d = maps["dmap"]
        panels.append(draw_detections(overlay_difference_map(image, d), np.zeros((0, 4)), [], [],
                                      title=f"D, max {float(np.max(d)):.3f}"))
    if "mask" in maps:
        m = np.asarray(maps["mask"]) > 0.5
        panels.append(draw_detections(overlay_mask(image, m), np.zeros((0, 4)), [], [],
                                      title=f"D_b, {m.mean():.1%} on"))
    if len(panels) == 1:
        return panels[0]
    gap = np.full((image.shape[0], max(2, image.shape[1] // 100), 3), 255, np.uint8)
    row = [panels[0]]
    for p in panels[1:]:
        row += [gap, p]
    return np.hstack(row)


def plot_large_frame(image: np.ndarray, preds: dict, *, maps_of: str,
                     gt_boxes: np.ndarray | None = None, score_thr: float = 0.3,
                     zoom: int = 320):
    """Several ways of running a detector on one large frame (:mod:`srtod.stages.detect`): top,
    each mode's detections (score >= ``score_thr``, green; ground truth blue) on the whole frame;
    bottom, a ``zoom`` px window with the most drones for each mode, then D and D_b of mode
    ``maps_of`` (SR-TOD). ``preds`` maps a mode's name to its
    :class:`srtod.inference.Prediction`."""
    import cv2
    import matplotlib.pyplot as plt

    from .maps import choose_zoom

    def drawn(pred) -> np.ndarray:
        keep = pred.scores >= score_thr
        out = draw_detections(image, pred.bboxes[keep], pred.scores[keep], pred.labels[keep])
        for x1, y1, x2, y2 in ([] if gt_boxes is None else gt_boxes):
            cv2.rectangle(out, (int(x1) - 2, int(y1) - 2), (int(x2) + 2, int(y2) + 2),
                          (255, 128, 0), 1)
        return out

    top = [(drawn(p), f"{name}: {int((p.scores >= score_thr).sum())} boxes >= {score_thr}")
           for name, p in preds.items()]
    bottom = [(panel, "zoom: " + title.split(":")[0]) for panel, title in top]
    maps = preds[maps_of].maps or {}
    if "dmap" in maps:
        bottom.append((overlay_difference_map(image, maps["dmap"]), f"D ({maps_of})"))
    if "mask" in maps:
        m = np.asarray(maps["mask"]) > 0.5
        bottom.append((overlay_mask(image, m), f"D_b ({maps_of}), {m.mean():.1%} on"))
    x0, y0, x1, y1 = choose_zoom(gt_boxes, image.shape, zoom)
    n_top, n_bottom = len(top), len(bottom)
    cols = n_top * n_bottom
    aspect = image.shape[0] / image.shape[1]
    width = 3.0 * n_bottom
    fig = plt.figure(figsize=(width, width / n_top * aspect + width / n_bottom + 0.8))
    grid = fig.add_gridspec(2, cols, height_ratios=[n_bottom * aspect, n_top])
    for k, (panel, title) in enumerate(top):
        ax = fig.add_subplot(grid[0, k * n_bottom:(k + 1) * n_bottom])
        ax.imshow(panel[..., ::-1])
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="yellow"))
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    for k, (panel, title) in enumerate(bottom):
        ax = fig.add_subplot(grid[1, k * n_top:(k + 1) * n_top])
        ax.imshow(panel[y0:y1, x0:x1, ::-1], interpolation="nearest")
        ax.set_title(title, fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    return fig


__all__ = ["draw_detections", "overlay_difference_map", "overlay_mask", "plot_large_frame",
           "render_prediction"]
