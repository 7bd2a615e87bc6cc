"""The detect stage (notebook 07): a trained detector on frames much larger than its input, whole
frame against sliced inference, with SR-TOD's difference maps.

The default profile trains on 160 px images; a 1920 x 1080 frame resized to that input shrinks a
7 px drone below one pixel. Running the frame at its own size, or in slices of the training size
(:class:`srtod.sliced_inference.SliceConfig`, as SAHI), keeps the drones' pixels. On generated frames (the
synthetic set's drone sizes) each mode is scored with the AI-TOD protocol; on your own images only
detections and times are reported. ``benchmarks/bench_large_frames.py`` runs the same comparison
on more frames.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..paths import output_dir, run_dir
from .params import ablation_detector, synthetic_image_size

#: the large frame of the comparison, (height, width): DroneSwarms' 1920 x 1080
LARGE_FRAME = (1080, 1920)


@dataclass(frozen=True)
class Mode:
    """One way to run a detector on a large frame: the input size the frame is resized to
    (``image_size``; None = its own size) and the slicing (None = one pass)."""

    name: str
    image_size: int | None
    slice: object | None = None  # srtod.sliced_inference.SliceConfig


def detection_modes(train_size: int) -> list[Mode]:
    """Whole frame at the training size, whole frame at its own size, and slices of the training
    size (overlap 0.2, plus the whole-frame pass) merged by NMS and by NMM."""
    from ..sliced_inference import SliceConfig

    s = train_size
    return [Mode(f"full frame @ {s} px", s),
            Mode("full frame @ native size", max(LARGE_FRAME)),
            Mode(f"sliced {s}x{s}, overlap 0.2, + full frame, NMS", s,
                 SliceConfig(s, s, overlap=0.2, merge="nms")),
            Mode(f"sliced {s}x{s}, overlap 0.2, + full frame, NMM", s,
                 SliceConfig(s, s, overlap=0.2, merge="nmm"))]


def large_frames(out: Path, num: int, seed: int = 1) -> Path:
    """``num`` generated 1920 x 1080 frames (the synthetic set's generator: DroneSwarms-like drone
    sizes, up to 30 per frame) under ``out``, made once; returns their COCO json."""
    from ..data.synthetic import generate_dataset

    gt = out / "annotations" / "test.json"
    if gt.is_file() and len(json.loads(gt.read_text())["images"]) == num:
        return gt
    generate_dataset(out, num_images={"test": num}, image_size=LARGE_FRAME, seed=seed,
                     progress=False)
    return gt


def frame_ids(frames: list[Path], gt: dict) -> list[int]:
    """The ground truth's image id of each frame (by file name)."""
    by_name = {im["file_name"]: im["id"] for im in gt["images"]}
    return [by_name[Path(f).name] for f in frames]


def score_frames(gt: dict, predictions: list) -> dict[str, float]:
    """AI-TOD metrics (percent; ``AP``, ``AP50``, ``APvt``, ``APt``, ``AR@1500``, ...) of
    :class:`srtod.inference.Prediction` on generated frames (``img_id`` = the frame's image id,
    label i = the i-th category by id)."""
    from ..evaluation.coco_eval import evaluate_coco
    from ..prediction import to_coco_results

    cat_ids = [c["id"] for c in sorted(gt["categories"], key=lambda c: c["id"])]
    return evaluate_coco(gt, to_coco_results(predictions, cat_ids), protocol="aitod")["metrics"]


def compare_modes(config, checkpoint: str | Path, frames: list[Path], modes: list[Mode], *,
                  gt: dict | None = None, device: str | None = None, score_thr: float = 0.01,
                  batch_size: int = 8) -> tuple[pd.DataFrame, dict[str, list]]:
    """Run every mode over ``frames``: one row per mode (detections, seconds per frame, and with
    ``gt`` the AI-TOD AP, APvt and AR@1500), and each mode's predictions (with SR-TOD maps for
    the first frame)."""
    from ..predictor import Detector

    ids = frame_ids(frames, gt) if gt is not None else list(range(1, len(frames) + 1))
    detectors: dict[int | None, Detector] = {}
    rows, predictions = [], {}
    for mode in modes:
        if mode.image_size not in detectors:
            detectors[mode.image_size] = Detector(config, checkpoint, device=device,
                                                  score_thr=score_thr, image_size=mode.image_size)
        detector = detectors[mode.image_size]
        start, preds = time.perf_counter(), []
        for k, (frame, img_id) in enumerate(zip(frames, ids, strict=True)):
            preds.append(detector.predict(frame, slice=mode.slice, batch_size=batch_size,
                                          img_id=img_id, maps=k == 0))
        seconds = (time.perf_counter() - start) / len(frames)
        row = {"mode": mode.name, "detections": int(sum(len(p.scores) for p in preds)),
               "s/frame": seconds}
        if gt is not None:
            metrics = score_frames(gt, preds)
            row.update({m: metrics[m] for m in ("AP", "APvt", "AR@1500")})
        rows.append(row)
        predictions[mode.name] = preds
    return pd.DataFrame(rows), predictions


def profile_checkpoint(params: dict, name: str | None = None) -> tuple[object, Path]:
    """(config, checkpoint) of a trained run of the profile; by default its SR-TOD run of the
    ablation detector (``<detector>_srtod``, seed 0)."""
    from .params import resolve_experiment, trained

    name = name or f"{ablation_detector(params)}_srtod"
    run = trained(resolve_experiment(params, name))
    if run is None:
        raise FileNotFoundError(f"{run_dir('train', name) / 'summary.json'}: no trained run "
                                f"{name!r} in profile {params['profile']!r}; run the train "
                                "stage first")
    return run


def _images(source: str | Path) -> list[Path]:
    """The images of SOURCE (an image, a folder or a glob), as ``predict SOURCE`` reads it."""
    from ..image_sources import collect_sources

    images = [path for path, _ in collect_sources(str(source)).images]
    if not images:
        raise FileNotFoundError(f"{source}: no image found")
    return images


def run_detect(params: dict, *, config=None, checkpoint: str | Path | None = None,
               source: str | Path | None = None, device: str | None = None,
               out: Path | None = None) -> dict:
    """The stage: ``checkpoint`` (default: the profile's SR-TOD run) on ``source`` (an image or a
    folder; default: ``detect.frames`` generated 1920 x 1080 frames, scored) in every mode of
    :func:`detection_modes` at the profile's training size. Writes ``detect.csv``/``.md`` and
    ``large_frame.png`` (the first frame: the detections of three modes, and D and D_b of the
    whole frame at its own size) to ``out`` (default: ``results/detect``)."""
    from ..viz import plot_large_frame, save
    from .markdown import to_markdown

    out = Path(out) if out else output_dir("detect")

    if checkpoint:
        if config is None:
            raise ValueError("a checkpoint of your own needs its config")
    else:
        config, checkpoint = profile_checkpoint(params)
    gt = None
    if source:
        frames = _images(source)
    else:
        num = int(params["active"].get("detect", {}).get("frames", 2))
        gt_file = large_frames(out / "frames", num)
        gt = json.loads(gt_file.read_text())
        frames = [gt_file.parents[1] / "images" / "test" / im["file_name"]
                  for im in sorted(gt["images"], key=lambda im: im["id"])]
    train_size = synthetic_image_size(params) or 800
    table, preds = compare_modes(config, checkpoint, frames, detection_modes(train_size), gt=gt,
                                 device=device)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "detect.csv", index=False)
    title = (f"Whole frame vs sliced inference on {len(frames)} "
             + (f"generated {LARGE_FRAME[1]}x{LARGE_FRAME[0]} frames" if gt else "images")
             + f" (checkpoint {Path(checkpoint).name}, trained at {train_size} px)")
    (out / "detect.md").write_text(to_markdown(table, title))
    import cv2

    first = cv2.imread(str(frames[0]))
    boxes = None
    if gt is not None:
        first_id = preds[next(iter(preds))][0].img_id
        boxes = np.array([[x, y, x + w, y + h] for a in gt["annotations"]
                          if a["image_id"] == first_id for x, y, w, h in [a["bbox"]]])
    shown = list(preds)[:3]  # whole frame at the training size and natively, sliced (NMS)
    figure = save(plot_large_frame(first, {m: preds[m][0] for m in shown}, maps_of=shown[1],
                                   gt_boxes=boxes), out / "large_frame.png")
    return {"table": table, "figure": figure, "frames": [str(f) for f in frames]}
