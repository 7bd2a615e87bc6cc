"""Alpha masks of tiny flying things: drones (annotated) and birds/specks (hard negatives).

A drone is a small 3-D model (body, arms, motors, spinning rotors drawn half-transparent, optional
skids; or a fixed wing) projected from a random heading, viewing elevation and roll, so that it
reads as a cross, a bar or a blob depending on the angle. Models are rasterised 4x supersampled
with OpenCV's convex fill, area-averaged to the final resolution (anti-aliased, sub-pixel placed)
and optionally Gaussian- or motion-blurred. The caller computes the box from the returned alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 4
_SHIFT = 4  # fixed-point bits for OpenCV's sub-pixel drawing
_ONE = 1 << _SHIFT
DRONE_MODELS: tuple[str, ...] = ("quad", "hex", "wing")
_MODEL_P = (0.6, 0.15, 0.25)

# A part: (fill, how, points (k, 3)). fill 'rotor' is drawn first with a partial alpha;
# how 'hull' fills the convex hull of the projection, 'poly' an ordered planar convex polygon.
Part = tuple[str, str, np.ndarray]


@dataclass(frozen=True)
class Sprite:
    """Alpha in [0, 1] of one object on an (m, m) canvas, and what it is."""

    alpha: np.ndarray
    kind: str


def _circle(cx: float, cy: float, cz: float, r: float, n: int = 12) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a), np.full(n, cz)], 1)


def _box(x: tuple[float, float], y: tuple[float, float], z: tuple[float, float]) -> np.ndarray:
    return np.array([[xi, yi, zi] for xi in x for yi in y for zi in z], float)


def _rotor_model(n_arms: int, rotor_r: float, skids: bool) -> list[Part]:
    parts: list[Part] = []
    for k in range(n_arms):
        a = (k + 0.5) * 2 * np.pi / n_arms
        tip = 0.75 * np.array([np.cos(a), np.sin(a)])
        parts.append(("rotor", "poly", _circle(tip[0], tip[1], 0.1, rotor_r)))
        normal = 0.035 * np.array([-np.sin(a), np.cos(a)])
        corners = [(0.0, 0.0) + normal, (0.0, 0.0) - normal, tip - normal, tip + normal]
        arm = np.array([[cx, cy, cz] for cx, cy in corners for cz in (-0.02, 0.04)])
        parts.append(("solid", "hull", arm))
        motor = np.concatenate([_circle(tip[0], tip[1], -0.02, 0.07, 8),
                                _circle(tip[0], tip[1], 0.09, 0.07, 8)])
        parts.append(("solid", "hull", motor))
    body = np.concatenate([_circle(0, 0, -0.1, 0.26, 12) * [1, 0.8, 1],
                           _circle(0, 0, 0.1, 0.22, 12) * [1, 0.8, 1]])
    parts.append(("solid", "hull", body))
    parts.append(("solid", "hull", _box((0.05, 0.2), (-0.07, 0.07), (-0.22, -0.08))))  # camera
    if skids:
        for side in (-1, 1):
            y = side * 0.2
            parts.append(("solid", "hull", _box((-0.28, 0.28), (y - 0.02, y + 0.02),
                                                (-0.34, -0.3))))
            for x in (-0.12, 0.12):
                parts.append(("solid", "hull", _box((x - 0.02, x + 0.02), (y - 0.02, y + 0.02),
                                                    (-0.32, -0.08))))
    return parts


def _wing_model() -> list[Part]:
    stations = [(-0.95, 0.04), (-0.5, 0.08), (0.0, 0.11), (0.55, 0.09), (0.95, 0.03)]
    fuselage = np.concatenate([_circle(0, 0, 0, r, 8)[:, [2, 0, 1]] + [x, 0, 0]
                               for x, r in stations])
    parts: list[Part] = [("solid", "hull", fuselage)]
    for side in (-1, 1):
        wing = np.array([[0.25, 0.05, 0], [0.0, 0.05, 0], [-0.1, 1.0, 0], [0.08, 1.0, 0]])
        wing[:, 1] *= side
        parts.append(("solid", "poly", wing))
        stab = np.array([[-0.7, 0.03, 0], [-0.85, 0.03, 0], [-0.95, 0.3, 0], [-0.85, 0.3, 0]])
        stab[:, 1] *= side
        parts.append(("solid", "poly", stab))
    parts.append(("solid", "poly", np.array([[-0.75, 0, 0.05], [-0.95, 0, 0.05],
                                             [-1.0, 0, 0.3], [-0.9, 0, 0.3]])))
    return parts


_TEMPLATES: dict[tuple[str, bool], list[Part]] = {
    ("quad", False): _rotor_model(4, 0.3, False),
    ("quad", True): _rotor_model(4, 0.3, True),
    ("hex", False): _rotor_model(6, 0.22, False),
    ("hex", True): _rotor_model(6, 0.22, True),
    ("wing", False): _wing_model(),
}


def _view_matrix(heading: float, elevation: float, roll: float) -> np.ndarray:
    """3-D model -> 2-D image (u right, v down): heading about z, seen from ``elevation`` below the
    horizontal (0: side view, pi/2: from straight below), then rolled in the image plane."""
    ch, sh = np.cos(heading), np.sin(heading)
    se, ce = np.sin(elevation), np.cos(elevation)
    proj = np.array([[ch, -sh, 0.0], [-sh * se, -ch * se, -ce]])
    cr, sr = np.cos(roll), np.sin(roll)
    return np.array([[cr, -sr], [sr, cr]]) @ proj


def _blur(rng: np.random.Generator, alpha: np.ndarray, sigma: float, motion: float) -> np.ndarray:
    if sigma > 0.2:
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    if motion > 0:
        k = int(np.ceil(motion)) | 1
        k += 2
        kernel = np.zeros((k * SUPERSAMPLE, k * SUPERSAMPLE), np.float32)
        ang = rng.uniform(0, np.pi)
        c = k * SUPERSAMPLE / 2
        d = motion * SUPERSAMPLE / 2 * np.array([np.cos(ang), np.sin(ang)])
        p1 = np.round((np.array([c, c]) - d) * _ONE).astype(np.int32)
        p2 = np.round((np.array([c, c]) + d) * _ONE).astype(np.int32)
        cv2.line(kernel, tuple(int(v) for v in p1), tuple(int(v) for v in p2), 1.0,
                 thickness=SUPERSAMPLE, lineType=cv2.LINE_8, shift=_SHIFT)
        kernel = cv2.resize(kernel, (k, k), interpolation=cv2.INTER_AREA)
        alpha = cv2.filter2D(alpha, -1, kernel / kernel.sum(), borderType=cv2.BORDER_CONSTANT)
    return alpha


def _canvas(size: float, sigma: float, motion: float) -> int:
    """Side of the sprite canvas (px): the object, blur tails and a margin."""
    return int(np.ceil(size)) + 2 * (2 + int(np.ceil(3 * sigma)) + int(np.ceil(motion / 2)))


def _sample_blur(rng: np.random.Generator) -> tuple[float, float]:
    sigma = float(rng.uniform(0.3, 1.0)) if rng.random() < 0.55 else 0.0
    motion = float(rng.uniform(1.5, 4.0)) if rng.random() < 0.12 else 0.0
    return sigma, motion


def drone_sprite(rng: np.random.Generator, size: float, model: str | None = None) -> Sprite:
    """A drone whose projected extent (larger side) is ``size`` px, at a random 3-D attitude."""
    if model is None:
        model = DRONE_MODELS[rng.choice(len(DRONE_MODELS), p=_MODEL_P)]
    skids = model != "wing" and rng.random() < 0.5
    parts = _TEMPLATES[(model, skids)]
    elevation = rng.uniform(np.deg2rad(5), np.deg2rad(80))
    roll = rng.normal(0, np.deg2rad(20 if model == "wing" else 12))
    view = _view_matrix(rng.uniform(0, 2 * np.pi), elevation, roll)

    projected = [pts @ view.T for _, _, pts in parts]
    allp = np.concatenate(projected)
    lo, hi = allp.min(0), allp.max(0)
    scale = size / max(float((hi - lo).max()), 1e-6)
    sigma, motion = _sample_blur(rng)
    m = _canvas(size, sigma, motion)
    centre = m / 2 + rng.uniform(-0.5, 0.5, 2)
    offset = (centre - (lo + hi) / 2 * scale) * SUPERSAMPLE

    canvas = np.zeros((m * SUPERSAMPLE, m * SUPERSAMPLE), np.float32)
    rotor_alpha = float(rng.uniform(0.35, 0.7))
    for fill_pass in ("rotor", "solid"):
        for (fill, how, _), pts in zip(parts, projected, strict=True):
            if fill != fill_pass:
                continue
            ipts = np.round((pts * (scale * SUPERSAMPLE) + offset) * _ONE).astype(np.int32)
            if how == "hull":
                ipts = cv2.convexHull(ipts)
            cv2.fillConvexPoly(canvas, ipts, rotor_alpha if fill == "rotor" else 1.0,
                               lineType=cv2.LINE_8, shift=_SHIFT)
    alpha = cv2.resize(canvas, (m, m), interpolation=cv2.INTER_AREA)
    return Sprite(_blur(rng, alpha, sigma, motion), model)


def bird_sprite(rng: np.random.Generator, size: float) -> Sprite:
    """A bird silhouette (two wing strokes and a body) of span ``size`` px: not a drone."""
    sigma, motion = _sample_blur(rng)
    m = _canvas(size, sigma, motion)
    tip, elbow = rng.uniform(-0.6, 0.6), rng.uniform(-0.35, 0.2)
    pts = np.array([[-1, tip], [-0.45, elbow], [0, 0], [0.45, elbow], [1, tip]], float) / 2
    roll = rng.uniform(-0.7, 0.7)
    rot = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    centre = m / 2 + rng.uniform(-0.5, 0.5, 2)
    ss = (pts @ rot.T * size + centre) * SUPERSAMPLE
    canvas = np.zeros((m * SUPERSAMPLE, m * SUPERSAMPLE), np.float32)
    thick = max(1, int(round(size * rng.uniform(0.06, 0.14) * SUPERSAMPLE)))
    cv2.polylines(canvas, [np.round(ss * _ONE).astype(np.int32)], False, 1.0, thickness=thick,
                  lineType=cv2.LINE_8, shift=_SHIFT)
    c = np.round(centre * SUPERSAMPLE * _ONE).astype(np.int32)
    axes = (max(1, int(size * 0.14 * SUPERSAMPLE * _ONE)), max(1, int(size * 0.07 * SUPERSAMPLE
                                                                       * _ONE)))
    cv2.ellipse(canvas, (int(c[0]), int(c[1])), axes, float(np.rad2deg(roll)), 0, 360, 1.0, -1,
                lineType=cv2.LINE_8, shift=_SHIFT)
    alpha = cv2.resize(canvas, (m, m), interpolation=cv2.INTER_AREA)
    return Sprite(_blur(rng, alpha, sigma, motion), "bird")


def speck_sprite(rng: np.random.Generator) -> Sprite:
    """A speck (dust, insect, hot pixel): a sub- to 2-px dot, sometimes streaked: not a drone."""
    sigma = float(rng.uniform(0.0, 0.7))
    motion = float(rng.uniform(2.0, 7.0)) if rng.random() < 0.3 else 0.0
    radius = float(rng.uniform(0.3, 1.1))
    m = _canvas(2 * radius, sigma, motion)
    canvas = np.zeros((m * SUPERSAMPLE, m * SUPERSAMPLE), np.float32)
    c = np.round((m / 2 + rng.uniform(-0.5, 0.5, 2)) * SUPERSAMPLE * _ONE).astype(np.int32)
    cv2.circle(canvas, (int(c[0]), int(c[1])), max(1, int(radius * SUPERSAMPLE * _ONE)), 1.0, -1,
               lineType=cv2.LINE_8, shift=_SHIFT)
    alpha = cv2.resize(canvas, (m, m), interpolation=cv2.INTER_AREA)
    return Sprite(_blur(rng, alpha, sigma, motion), "speck")
