"""Procedural backgrounds for the synthetic anti-UAV set: sky, clouds, horizon silhouettes, haze.

DroneSwarms (Cao et al., ECCV 2024) shows swarms "under various complex backgrounds and lighting
conditions"; this module draws such scenes with structure at every scale, so that a detector cannot
find drones as the only non-flat pixels: a sky gradient, fractal clouds, optional sun glare, a
horizon with far hills and near trees/buildings (with antennas, thin hard negatives), then haze,
vignetting and exposure. All work is vectorised numpy/OpenCV on float32 RGB in [0, 255].

Rendering is split in two so that drones can be composited in between and then receive the same
atmosphere: :func:`draw_scene` (sky and ground) and :func:`apply_atmosphere` (haze, vignetting,
exposure; deterministic given the :class:`SceneParams`). Images are channel-first planes (3, H, W):
numpy broadcasting over a trailing axis of 3 is several times slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

LIGHTINGS: tuple[str, ...] = ("bright", "overcast", "dusk", "hazy")
_LIGHTING_P = (0.38, 0.25, 0.2, 0.17)

# (top of sky, horizon, cloud colour, ground colour, haze colour), RGB
_PALETTES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "bright": ((70, 135, 220), (185, 212, 242), (245, 246, 250), (60, 72, 55), (205, 220, 240)),
    "overcast": ((150, 158, 170), (200, 204, 210), (172, 176, 184), (70, 74, 70), (200, 203, 208)),
    "dusk": ((38, 52, 105), (245, 165, 115), (95, 70, 100), (25, 22, 30), (215, 150, 120)),
    "hazy": ((175, 190, 210), (222, 224, 226), (230, 232, 236), (120, 122, 118), (225, 226, 228)),
}
#: sensor noise std (grey levels) per lighting: darker scenes are noisier
_NOISE_STD = {"bright": (0.8, 3.0), "overcast": (1.2, 4.0), "dusk": (2.5, 7.0), "hazy": (0.8, 3.0)}


@dataclass(frozen=True)
class SceneParams:
    """Per-image scene settings (drawn by :func:`sample_scene`)."""

    lighting: str
    horizon: float | None  # horizon row as a fraction of the height; None: sky only
    haze: float  # haze strength at the horizon, 0..1
    haze_length: float  # haze fall-off, fraction of the height
    vignette: float  # darkening at the corners, 0..1
    gain: float  # exposure
    noise_std: float  # sensor noise, grey levels
    colours: tuple[np.ndarray, ...]  # top, horizon, cloud, ground, haze: (3, 1, 1) RGB


def sample_scene(rng: np.random.Generator) -> SceneParams:
    """Draw the lighting, horizon and atmosphere of one image."""
    lighting = LIGHTINGS[rng.choice(len(LIGHTINGS), p=_LIGHTING_P)]
    colours = tuple(np.clip(np.asarray(c, np.float32) * rng.uniform(0.9, 1.1, 3), 0, 255)
                    .astype(np.float32).reshape(3, 1, 1) for c in _PALETTES[lighting])
    horizon = float(rng.uniform(0.55, 0.93)) if rng.random() < 0.7 else None
    haze_hi = 0.75 if lighting == "hazy" else 0.45
    return SceneParams(
        lighting=lighting, horizon=horizon, haze=float(rng.uniform(0.05, haze_hi)),
        haze_length=float(rng.uniform(0.05, 0.3)), vignette=float(rng.uniform(0.0, 0.25)),
        gain=float(rng.uniform(0.85, 1.12)), noise_std=float(rng.uniform(*_NOISE_STD[lighting])),
        colours=colours)


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float = 3.0,
                  octaves: int = 5, persistence: float = 0.55, stretch: float = 1.0,
                  work: int = 2) -> np.ndarray:
    """Smooth multi-octave value noise in [0, 1], float32 of ``shape``.

    Octave k bicubically interpolates a random grid of ``cells * 2**k`` cells down (``stretch``
    times fewer across, for wide layered clouds or fields) at ``1/work`` of the resolution; then
    one bilinear upsampling.
    """
    h, w = shape
    sh, sw = max(8, h // work), max(8, w // work)
    acc = np.zeros((sh, sw), np.float32)
    amp = 1.0
    for k in range(octaves):
        gy = max(2, int(round(cells * 2**k)))
        gx = max(2, int(round(cells * 2**k * w / h / stretch)))
        if gy > sh // 3 or gx > sw // 3:
            break
        grid = rng.random((gy + 1, gx + 1), dtype=np.float32)
        acc += amp * cv2.resize(grid, (sw, sh), interpolation=cv2.INTER_CUBIC)
        amp *= persistence
    out = cv2.resize(acc, (w, h), interpolation=cv2.INTER_LINEAR) if (sh, sw) != (h, w) else acc
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) * np.float32(1 / max(hi - lo, 1e-6))


def _profile(rng: np.random.Generator, width: int, cells: int) -> np.ndarray:
    """Smooth 1-D random profile in [0, 1] of length ``width``."""
    pts = rng.random((1, cells + 1), dtype=np.float32)
    prof = cv2.resize(pts, (width, 1), interpolation=cv2.INTER_CUBIC)[0]
    return np.clip(prof, 0.0, 1.0)


def _tree_line(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Heights (px) of a line of tree crowns: the upper envelope of random half-ellipses."""
    n = max(3, int(width / max(4.0, rng.uniform(0.012, 0.05) * width)))
    cx = rng.uniform(-0.05, 1.05, n).astype(np.float32) * width
    rx = (rng.uniform(0.008, 0.04, n) * width).astype(np.float32) + 1.5
    top = (rng.uniform(0.01, 0.09) * height * rng.uniform(0.4, 1.0, n)).astype(np.float32)
    x = np.arange(width, dtype=np.float32)[None, :]
    u = np.clip(1 - ((x - cx[:, None]) / rx[:, None]) ** 2, 0, None)
    return (np.sqrt(u) * (top + rx * 0.6)[:, None]).max(0)


def _skyline(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Heights (px, per column) of the near silhouette: trees, buildings (with masts) or both."""
    kind = rng.choice(["trees", "buildings", "mixed", "flat"], p=[0.35, 0.3, 0.25, 0.1])
    heights = np.zeros(width, np.float32)
    if kind in ("trees", "mixed"):
        heights = np.maximum(heights, _tree_line(rng, width, height))
    if kind in ("buildings", "mixed"):
        x = 0
        while x < width:
            w = int(rng.uniform(0.02, 0.12) * width) + 2
            if rng.random() < 0.75:
                h = rng.uniform(0.02, 0.22 if kind == "buildings" else 0.14) * height
                heights[x:x + w] = np.maximum(heights[x:x + w], h)
                if rng.random() < 0.25 and w > 4:  # antenna / mast: a thin hard negative
                    ax = min(width - 1, x + int(rng.integers(1, w - 1)))
                    heights[ax] = h + rng.uniform(0.01, 0.05) * height
            x += w
    if kind == "flat":
        heights += rng.uniform(0.0, 0.01) * height
    return heights


def _layer_alpha(rows: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Coverage (H, W) of a silhouette whose top edge per column is ``top``; anti-aliased edge."""
    return np.clip(rows - top[None, :] + 0.5, 0.0, 1.0)


def _over(img: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``img`` (3, H, W) with ``layer`` (3, H, W or broadcastable) over it with ``alpha`` (H, W)."""
    return img + (layer - img) * alpha[None]


def draw_scene(rng: np.random.Generator, params: SceneParams, size: tuple[int, int]) -> np.ndarray:
    """Sky (gradient, clouds, sun glare) and, when ``params.horizon`` is set, hills, skyline and
    ground. Returns float32 RGB planes (3, H, W) in [0, 255], before atmosphere."""
    h, w = size
    top, hor, cloud_col, ground_col, _ = params.colours
    y_h = params.horizon * h if params.horizon is not None else h * rng.uniform(1.1, 1.8)
    rows = np.arange(h, dtype=np.float32)[:, None]
    cols = np.arange(w, dtype=np.float32)[None, :]

    # sky gradient, brighter towards the horizon and towards one side
    t = (np.clip(rows / y_h, 0, 1) ** rng.uniform(0.8, 2.5))[None]  # (1, H, 1)
    side = 1 + (cols / max(w - 1, 1) - 0.5) * np.float32(rng.uniform(-0.15, 0.15))  # (1, W)
    img = (top + (hor - top) * t) * side[None]  # (3, H, W)

    # sun glare (bright or dusk skies)
    if params.lighting in ("bright", "dusk") and rng.random() < 0.3:
        sx, sy = rng.uniform(0, w), rng.uniform(-0.2, 0.6) * min(y_h, h)
        sigma = rng.uniform(0.05, 0.3) * max(h, w)
        glow = np.exp(((cols - sx) ** 2 + (rows - sy) ** 2) * np.float32(-0.5 / sigma**2))
        img = _over(img, np.float32(255), glow * np.float32(rng.uniform(0.3, 0.9)))

    # clouds: thresholded fractal noise, denser cores shaded darker
    coverage = {"bright": (0.1, 0.6), "overcast": (0.55, 1.0), "dusk": (0.15, 0.7),
                "hazy": (0.1, 0.5)}[params.lighting]
    if rng.random() < 0.85:
        cov = rng.uniform(*coverage)
        n = fractal_noise(rng, (h, w), cells=rng.uniform(1.0, 3.0), octaves=7,
                          persistence=rng.uniform(0.5, 0.72), stretch=rng.uniform(1.0, 4.0))
        soft = rng.uniform(0.05, 0.25)
        d = np.clip((n - np.float32(0.78 - 0.5 * cov)) * np.float32(1 / soft), 0, 1)
        d = d * d * (3 - 2 * d) * np.float32(rng.uniform(0.6, 1.0))
        shade = 1 - np.float32(rng.uniform(0.1, 0.4)) * (2 * n - 1)
        img = _over(img, cloud_col * shade[None], d)

    if params.horizon is not None:
        # far hills: pale, close to the horizon colour
        far_top = y_h - _profile(rng, w, int(rng.integers(3, 10))) * (rng.uniform(0.01, 0.1) * h)
        far_col = ground_col * 0.35 + hor * 0.65
        img = _over(img, far_col, _layer_alpha(rows, far_top))
        # near skyline (trees / buildings / masts) and the ground, darker towards the camera
        texture = fractal_noise(rng, (h, w), cells=rng.uniform(2, 6), octaves=6,
                                stretch=rng.uniform(1.0, 4.0))
        near_top = y_h + rng.uniform(0.0, 0.03) * h - _skyline(rng, w, h)
        depth = 1 - np.float32(rng.uniform(0.0, 0.35)) * np.clip((rows - y_h) / (h - y_h + 1), 0, 1)
        near = ground_col * ((np.float32(0.7) + np.float32(0.6) * texture) * depth)[None]
        img = _over(img, near, _layer_alpha(rows, near_top))
    return img.astype(np.float32, copy=False)


@lru_cache(maxsize=8)
def _radius2(h: int, w: int) -> np.ndarray:
    """Squared normalised distance from the image centre (1 at the corners)."""
    ys = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / max(h / 2, 1)
    xs = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / max(w / 2, 1)
    return (ys[:, None] ** 2 + xs[None, :] ** 2) / 2


def apply_atmosphere(img: np.ndarray, params: SceneParams) -> np.ndarray:
    """Haze around the horizon, vignetting and exposure; pure function of ``img`` and ``params``."""
    _, h, w = img.shape
    rows = np.arange(h, dtype=np.float32)[:, None]
    y_h = params.horizon * h if params.horizon is not None else 1.3 * h
    wgt = np.float32(params.haze) * np.exp(-np.abs(rows - y_h) / np.float32(params.haze_length * h))
    wgt = (wgt + np.float32(0.04 * params.haze))[None]  # (1, H, 1)
    gain = np.float32(params.gain) * (1 - np.float32(params.vignette) * _radius2(h, w))
    return (img + (params.colours[4] - img) * wgt) * gain[None]


def add_sensor_noise(rng: np.random.Generator, img: np.ndarray, std: float) -> np.ndarray:
    """Gaussian sensor noise (full-resolution luminance, half-resolution chroma) -> uint8 planes."""
    _, h, w = img.shape
    lum = rng.standard_normal((h, w), dtype=np.float32)
    lum *= np.float32(0.85 * std)
    chroma = rng.standard_normal((3, (h + 1) // 2, (w + 1) // 2), dtype=np.float32)
    out = np.empty((3, h, w), np.uint8)
    for c in range(3):  # plane by plane: in place, OpenCV for the arithmetic
        plane = cv2.resize(chroma[c], (w, h), interpolation=cv2.INTER_LINEAR)
        cv2.scaleAdd(plane, 0.6 * std, lum, dst=plane)
        plane += img[c]
        plane += np.float32(0.5)  # round, not truncate
        np.clip(plane, 0, 255, out=plane)
        out[c] = plane
    return out


def to_bgr(planes: np.ndarray) -> np.ndarray:
    """(3, H, W) RGB planes -> (H, W, 3) BGR image for OpenCV."""
    return cv2.merge([planes[2], planes[1], planes[0]])


def jpeg_bytes(rng: np.random.Generator, planes: np.ndarray) -> bytes:
    """Encode uint8 RGB planes as JPEG at a random quality (sometimes twice: stronger artefacts)."""
    bgr = to_bgr(planes)
    if rng.random() < 0.25:
        _, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 61))])
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(65, 96))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
