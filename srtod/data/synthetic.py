"""The embedded default data set: synthetic anti-UAV drone swarms in COCO format.

Modelled on DroneSwarms (Cao et al., "Visible and Clear: Finding Tiny Objects in Difference Map",
ECCV 2024): one class ``drone``, many drones per image, mean object size about 7.9 px, complex
backgrounds and lighting. Each image is a procedural sky/horizon scene (:mod:`.backgrounds`) with a
swarm of 1 to ~30 drones of 2-32 px (sizes log-normal, so that AI-TOD "very tiny" < 8 px and "tiny"
8-16 px dominate; mean sqrt-area near 8 px), dark or light, sometimes low-contrast or blurred, plus
unannotated birds and specks as hard negatives; then haze, vignetting, sensor noise and JPEG
artefacts. Every box is the tight bounding box of the drawn alpha (alpha >= ``box_alpha``), not of
the intended size.

Determinism: image ``i`` of split ``s`` uses its own generator seeded from ``(seed, crc32(s), i)``,
so the same seed gives identical bytes, and changing one split's count leaves the others unchanged.

Layout written by :func:`generate_dataset`::

    <out>/images/<split>/<split>_000000.jpg
    <out>/annotations/<split>.json      (COCO; categories [{id: 1, name: 'drone'}])
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import backgrounds as bg
from .cocoio import dump_json
from .sprites import Sprite, bird_sprite, drone_sprite, speck_sprite

CATEGORIES = [{"id": 1, "name": "drone", "supercategory": "uav"}]
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class SyntheticConfig:
    """Knobs of the generator (defaults give DroneSwarms-like statistics at 512x512).

    Sizes are the larger projected side of a drone in px, drawn from a mixture of two log-normals
    (far swarm; occasional nearer drones), clipped to ``[min_size, max_size]``. The count of drones
    per image is 1..``max_drones`` (half of the images small groups, half swarms), scaled down for
    images smaller than 512x512.
    """

    size_median: float = 7.1
    size_sigma: float = 0.42
    near_fraction: float = 0.1
    near_median: float = 15.0
    near_sigma: float = 0.35
    min_size: float = 2.0
    max_size: float = 32.0
    min_drones: int = 1
    max_drones: int = 30
    dark_fraction: float = 0.7
    low_contrast_fraction: float = 0.25
    birds_mean: float = 0.8
    specks_mean: float = 1.5
    box_alpha: float = 0.1


@dataclass
class Sample:
    """One rendered image: the final RGB (before JPEG), its boxes and, on request, the layers."""

    image: np.ndarray  # uint8 RGB planes (3, H, W), with sensor noise (``rgb()`` for H, W, 3)
    boxes: np.ndarray  # (N, 4) int xywh, tight around alpha >= box_alpha
    models: list[str]  # per box: 'quad', 'hex', 'wing'
    distractors: list[tuple[str, tuple[int, int, int, int]]]  # unannotated (kind, xywh)
    scene: bg.SceneParams
    jpeg: bytes = b""
    layers: dict[str, np.ndarray] = field(default_factory=dict)

    def rgb(self) -> np.ndarray:
        """The image as (H, W, 3) uint8 RGB."""
        return np.ascontiguousarray(self.image.transpose(1, 2, 0))


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of image ``index`` of ``split`` (independent of every other image)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(split.encode()), index]))


def _sample_size(rng: np.random.Generator, cfg: SyntheticConfig) -> float:
    if rng.random() < cfg.near_fraction:
        s = rng.lognormal(np.log(cfg.near_median), cfg.near_sigma)
    else:
        s = rng.lognormal(np.log(cfg.size_median), cfg.size_sigma)
    return float(np.clip(s, cfg.min_size, cfg.max_size))


def _sample_count(rng: np.random.Generator, cfg: SyntheticConfig, hw: tuple[int, int]) -> int:
    if rng.random() < 0.5:
        n = rng.integers(cfg.min_drones, max(cfg.min_drones, 8) + 1)
    else:
        n = rng.integers(min(8, cfg.max_drones), cfg.max_drones + 1)
    scale = min(1.0, np.sqrt(hw[0] * hw[1]) / 512)
    return int(max(cfg.min_drones, round(n * scale)))


def _tight_box(alpha: np.ndarray, thr: float) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of the pixels with ``alpha >= thr`` in sprite coordinates; None if none."""
    mask = alpha >= thr
    cols, rows = np.flatnonzero(mask.any(0)), np.flatnonzero(mask.any(1))
    if cols.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


class _Placer:
    """Positions for sprites: swarm clusters in the sky, no overlap between objects' boxes."""

    def __init__(self, rng: np.random.Generator, hw: tuple[int, int], horizon: float | None):
        self.rng, (self.h, self.w) = rng, hw
        self.sky_bottom = (horizon if horizon is not None else 1.0) * self.h
        n_clusters = int(rng.integers(1, 4))
        self.centres = np.stack([rng.uniform(0.1, 0.9, n_clusters) * self.w,
                                 rng.uniform(0.05, 0.85, n_clusters) * self.sky_bottom], 1)
        self.spread = rng.uniform(0.06, 0.3) * min(self.h, self.w)
        self.taken: list[tuple[int, int, int, int]] = []  # x0, y0, x1, y1 (exclusive), with margin

    def place(self, sprite: Sprite, box: tuple[int, int, int, int]) -> tuple[int, int] | None:
        """Top-left of the sprite canvas so that its box is free and inside the image, or None."""
        m = sprite.alpha.shape[0]
        bx, by, bw, bh = box
        if bw > self.w or bh > self.h:
            return None
        for _ in range(25):
            u = self.rng.random()
            if u < 0.65:  # around a swarm centre
                c = self.centres[self.rng.integers(len(self.centres))]
                cx, cy = self.rng.normal(c, self.spread)
            elif u < 0.9:  # anywhere in the sky
                cx, cy = self.rng.uniform(0, self.w), self.rng.uniform(0, self.sky_bottom)
            else:  # anywhere (low flyers in front of trees / buildings)
                cx, cy = self.rng.uniform(0, self.w), self.rng.uniform(0, self.h)
            x0, y0 = int(round(cx - m / 2)), int(round(cy - m / 2))
            # keep the whole canvas inside the image (blur tails are part of the drawing)
            x0 = min(max(x0, 0), self.w - m) if m <= self.w else None
            y0 = min(max(y0, 0), self.h - m) if m <= self.h else None
            if x0 is None or y0 is None:
                return None
            cand = (x0 + bx - 2, y0 + by - 2, x0 + bx + bw + 2, y0 + by + bh + 2)
            if all(cand[2] <= t[0] or t[2] <= cand[0] or cand[3] <= t[1] or t[3] <= cand[1]
                   for t in self.taken):
                self.taken.append(cand)
                return x0, y0
        return None


def _composite(img: np.ndarray, sprite: Sprite, x0: int, y0: int, colour: np.ndarray) -> None:
    """Alpha-blend a flat ``colour`` (3, 1, 1) through the sprite into planes ``img`` (3, H, W)."""
    m = sprite.alpha.shape[0]
    region = img[:, y0:y0 + m, x0:x0 + m]
    region += (colour - region) * sprite.alpha[None]


def _local_mean(img: np.ndarray, x0: int, y0: int, m: int) -> np.ndarray:
    return img[:, y0:y0 + m, x0:x0 + m].reshape(3, -1).mean(1).reshape(3, 1, 1)


def _object_colour(rng: np.random.Generator, local: np.ndarray, dark: bool,
                   low_contrast: bool) -> np.ndarray:
    """Colour (3, 1, 1) of an object against the local background mean ``local`` (3, 1, 1)."""
    c = rng.uniform(0.1, 0.3) if low_contrast else rng.uniform(0.35, 0.9)
    tint = rng.uniform(0.92, 1.08, 3).astype(np.float32).reshape(3, 1, 1)
    brightness = float(local.mean())
    if (dark and brightness > 60) or brightness > 215:  # dark on dark would be invisible
        return (local * (1 - c) * tint).astype(np.float32)
    return np.clip((local + (255 - local) * c) * tint, 0, 255).astype(np.float32)


def _place_and_draw(img: np.ndarray, placer: _Placer, sprite: Sprite, rng: np.random.Generator,
                    cfg: SyntheticConfig, dark_p: float,
                    low_contrast_p: float | None) -> tuple[int, int, int, int] | None:
    """Place ``sprite`` without overlap, colour it against its local background and draw it;
    returns its tight box (x, y, w, h), or None when it fits nowhere. ``low_contrast_p=None``
    never draws low contrast (and consumes no random number for it)."""
    box = _tight_box(sprite.alpha, cfg.box_alpha)
    pos = placer.place(sprite, box) if box is not None else None
    if pos is None:
        return None
    x0, y0 = pos
    local = _local_mean(img, x0, y0, sprite.alpha.shape[0])
    dark = rng.random() < dark_p
    low_contrast = low_contrast_p is not None and rng.random() < low_contrast_p
    _composite(img, sprite, x0, y0, _object_colour(rng, local, dark, low_contrast))
    return (x0 + box[0], y0 + box[1], box[2], box[3])


def render_sample(seed: int, split: str, index: int, image_size: tuple[int, int] = (512, 512),
                  config: SyntheticConfig | None = None, *, encode: bool = True,
                  keep_layers: bool = False) -> Sample:
    """Render image ``index`` of ``split``. ``keep_layers`` adds float RGB ``background`` and
    ``clean`` (float planes (3, H, W), same atmosphere, without / with objects, before sensor
    noise) for inspection."""
    cfg = config or SyntheticConfig()
    h, w = image_size
    rng = image_rng(seed, split, index)
    scene = bg.sample_scene(rng)
    base = bg.draw_scene(rng, scene, (h, w))
    img = base.copy()
    placer = _Placer(rng, (h, w), scene.horizon)

    boxes: list[tuple[int, int, int, int]] = []
    models: list[str] = []
    swarm_model = None if rng.random() < 0.3 else str(rng.choice(["quad", "quad", "hex", "wing"]))
    for _ in range(_sample_count(rng, cfg, (h, w))):
        size = min(_sample_size(rng, cfg), 0.5 * min(h, w))
        model = swarm_model if swarm_model is not None and rng.random() < 0.85 else None
        sprite = drone_sprite(rng, size, model)
        drawn = _place_and_draw(img, placer, sprite, rng, cfg, cfg.dark_fraction,
                                cfg.low_contrast_fraction)
        if drawn is not None:
            boxes.append(drawn)
            models.append(sprite.kind)

    area_scale = h * w / 512**2
    distractors: list[tuple[str, tuple[int, int, int, int]]] = []
    n_birds = int(rng.poisson(cfg.birds_mean * area_scale))
    n_specks = int(rng.poisson(cfg.specks_mean * area_scale))
    for kind in ["bird"] * n_birds + ["speck"] * n_specks:
        sprite = (bird_sprite(rng, float(rng.uniform(3, 18))) if kind == "bird"
                  else speck_sprite(rng))
        drawn = _place_and_draw(img, placer, sprite, rng, cfg, 0.8, None)
        if drawn is not None:
            distractors.append((kind, drawn))

    clean = bg.apply_atmosphere(img, scene)
    out = bg.add_sensor_noise(rng, clean, scene.noise_std)
    sample = Sample(image=out, boxes=np.asarray(boxes, np.int64).reshape(-1, 4), models=models,
                    distractors=distractors, scene=scene)
    if encode:
        sample.jpeg = bg.jpeg_bytes(rng, out)
    if keep_layers:
        sample.layers = {"background": bg.apply_atmosphere(base, scene), "clean": clean}
    return sample


def _normalise_size(image_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    h, w = (int(v) for v in image_size)
    if h < 32 or w < 32:
        raise ValueError(f"image_size must be at least 32x32 px, got {h}x{w}")
    return h, w


def generate_split(out_dir: str | Path, split: str, num_images: int, *,
                   image_size: int | tuple[int, int] = (512, 512), seed: int = 0,
                   config: SyntheticConfig | None = None, progress_bar: Any = None
                   ) -> dict[str, Any]:
    """Write the images and the COCO json of one split; returns its summary."""
    cfg = config or SyntheticConfig()
    h, w = _normalise_size(image_size)
    out_dir = Path(out_dir)
    img_dir = out_dir / "images" / split
    img_dir.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(split)}_(\d{{6}})\.jpg$")
    for stale in img_dir.iterdir():  # images of an earlier, larger run of this split
        match = pattern.match(stale.name)
        if match and int(match.group(1)) >= num_images:
            stale.unlink()

    images, annotations = [], []
    for i in range(num_images):
        sample = render_sample(seed, split, i, (h, w), cfg)
        name = f"{split}_{i:06d}.jpg"
        (img_dir / name).write_bytes(sample.jpeg)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h,
                       "lighting": sample.scene.lighting,
                       "horizon": None if sample.scene.horizon is None
                       else round(sample.scene.horizon, 4),
                       "distractors": len(sample.distractors)})
        for (x, y, bw, bh), model in zip(sample.boxes.tolist(), sample.models, strict=True):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": 1,
                                "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0,
                                "model": model})
        if progress_bar is not None:
            progress_bar.update(1)

    coco = {
        "info": {"description": "srtod synthetic anti-UAV swarms (DroneSwarms-like)",
                 "generator": f"srtod.data.synthetic v{GENERATOR_VERSION}", "seed": seed,
                 "split": split, "image_size": [h, w], "config": asdict(cfg)},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": CATEGORIES,
    }
    ann_file = dump_json(coco, out_dir / "annotations" / f"{split}.json")
    return {"ann_file": str(ann_file), "img_dir": str(img_dir), "images": num_images,
            "instances": len(annotations)}


def generate_dataset(out_dir: str | Path, *, num_images: Mapping[str, int],
                     image_size: int | tuple[int, int] = (512, 512), seed: int = 0,
                     progress: bool = True, config: SyntheticConfig | None = None
                     ) -> dict[str, Any]:
    """Generate the synthetic set under ``out_dir`` (see module docstring for the layout).

    Args:
        out_dir: output folder (``data/synthetic`` in the pipeline).
        num_images: images per split, e.g. ``{'train': 300, 'val': 60, 'test': 60}``.
        image_size: (H, W) or one int for square images.
        seed: data set seed; the same seed gives byte-identical files.
        progress: show a tqdm progress bar.
        config: generator knobs (:class:`SyntheticConfig`).

    Returns:
        summary: ``{'out_dir', 'seed', 'image_size', 'seconds', 'images_per_second',
        'splits': {split: {'ann_file', 'img_dir', 'images', 'instances'}}}``.
    """
    from tqdm import tqdm

    h, w = _normalise_size(image_size)
    counts = {str(k): int(v) for k, v in num_images.items()}
    for split, n in counts.items():
        if n < 0:
            raise ValueError(f"num_images[{split!r}] must be >= 0, got {n}")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", split):
            raise ValueError(f"split name {split!r} must be letters, digits, '_' or '-'")
    start = time.perf_counter()
    splits = {}
    with tqdm(total=sum(counts.values()), desc="generate", unit="img", disable=not progress,
              dynamic_ncols=True) as bar:
        for split, n in counts.items():
            splits[split] = generate_split(out_dir, split, n, image_size=(h, w), seed=seed,
                                           config=config, progress_bar=bar)
    seconds = time.perf_counter() - start
    total = sum(counts.values())
    return {"out_dir": str(out_dir), "seed": seed, "image_size": [h, w], "splits": splits,
            "seconds": round(seconds, 3), "images_per_second": round(total / seconds, 2)
            if seconds > 0 else None}
