"""``python -m srtod predict CONFIG CHECKPOINT [SOURCE]``: detect on images, a folder, a glob or a
video (SOURCE), or on a data set's split (no SOURCE: COCO results json, optionally evaluated).
``python -m srtod predict MODEL.onnx SOURCE`` does the same with an exported model and ONNX Runtime;
``python -m srtod predict MODEL.onnx --data-root DIR`` predicts (and with ``--evaluate`` scores) a
split of a COCO-format data set with it, as ``predict CONFIG CHECKPOINT`` does without SOURCE.

With SOURCE, the output folder (``--out-dir``) receives:

- ``detections.json``: COCO results (``image_id``, ``category_id`` = label + 1, ``bbox`` x y w h,
  ``score``); ``images.json``: ``{"images": [{file_name, id, width, height}], "categories": [...]}``;
- ``detections.csv``: ``image, x1, y1, x2, y2, score, label, class_name``;
- ``vis/``: one JPEG per image, boxes with scores (SR-TOD models: D and D_b beside it), unless
  ``--no-vis``; a video gets ``vis/<name>.mp4``;
- ``crops/<class>/``: each detection cut out, with ``--save-crops``.

Bad input is named on stderr and skipped; the exit code is 1 only when nothing could be processed,
2 for a missing or unfitting checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import add_dataset_argument, add_device_argument, checkpoint_first, device_of

DEFAULT_SCORE_THR = 0.3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    from ..sliced_inference import MATCH_METRICS, MERGES, SliceConfig

    parser.add_argument("config", help="a checkpoint of srtod train alone (its own config, "
                        "classes and input size); or a config file, or a path relative to "
                        "srtod/configs, before its CHECKPOINT; or an exported model.onnx (srtod "
                        "export), run with ONNX Runtime")
    parser.add_argument("checkpoint", nargs="?",
                        help="checkpoint file or URL after a config (after a checkpoint or a "
                             "model.onnx: SOURCE, or nothing to predict a split)")
    parser.add_argument("source", nargs="?",
                        help="an image, a folder of images, a glob ('frames/*.png', quoted) or a "
                             "video; without it, a split of the config's data set (--split)")
    src = parser.add_argument_group("with SOURCE")
    src.add_argument("--out-dir", default="work_dirs/predict",
                     help="folder for detections.json/csv, images.json, vis/ and crops/ "
                          "(work_dirs/predict)")
    src.add_argument("--score-thr", type=float, default=None,
                     help=f"drop detections below this score (default {DEFAULT_SCORE_THR}; "
                          "without SOURCE every detection is kept unless given, for evaluation)")
    src.add_argument("--batch-size", type=int, default=1,
                     help="images (or, with --slice, slices) per forward pass")
    src.add_argument("--save-crops", action="store_true", help="write each detection's crop")
    src.add_argument("--no-vis", action="store_true", help="write no visualisations")
    src.add_argument("--no-maps", action="store_true",
                     help="SR-TOD models: leave D and D_b out of the visualisations")
    src.add_argument("--slice", type=int, nargs=2, metavar=("H", "W"),
                     help="sliced inference with H x W windows (for frames much larger than the "
                          "network input)")
    src.add_argument("--overlap", type=float, default=SliceConfig.overlap,
                     help="overlap of the slices (%(default)s)")
    src.add_argument("--no-full-frame", action="store_true",
                     help="with --slice: skip the full-frame pass that is added by default")
    src.add_argument("--merge", choices=MERGES, default=SliceConfig.merge,
                     help="with --slice: keep the best of overlapping boxes (NMS, the default: "
                          "better AP on tiny objects, docs/results/large_frames) or merge them "
                          "(non-maximum merging, SAHI's default)")
    src.add_argument("--match-metric", choices=MATCH_METRICS, default=SliceConfig.match_metric,
                     help="with --slice: overlap measure for merging (intersection over the "
                          "smaller box, or IoU)")
    src.add_argument("--match-thr", type=float, default=SliceConfig.match_thr,
                     help="with --slice: merge at or above this overlap (%(default)s)")
    src.add_argument("--no-progress", action="store_true", help="no progress bar")
    split = parser.add_argument_group("without SOURCE (a data set's split)")
    split.add_argument("--split", choices=["val", "test"], default="test")
    split.add_argument("--out", default="detections.json", help="COCO results json to write")
    split.add_argument("--evaluate", action="store_true", help="also print AI-TOD metrics")
    add_dataset_argument(parser)
    parser.add_argument("--data-root", help="folder with images/ and annotations/ (default: the "
                        "checkpoint's, or the config's)")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side "
                        "(default: as the checkpoint was trained, or the config's)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    add_device_argument(parser)


def _error(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..checkpoint import resolve_config

    if args.config.lower().endswith(".onnx"):
        return _run_onnx(args)
    problem = checkpoint_first(args, "predict")
    if problem:
        _error(problem)
        return 2
    if args.checkpoint is None:
        _error(f"{args.config} needs a CHECKPOINT (only an exported model.onnx runs without one)")
        return 2
    device = device_of(args)
    if device is None:
        return 2
    if not Path(args.checkpoint).is_file() and "://" not in args.checkpoint:
        _error(f"checkpoint {args.checkpoint} does not exist")
        return 2
    from ..data.cocoio import DataError

    try:
        cfg, notes = resolve_config(args.config, args.checkpoint, dataset=args.dataset,
                                    data_root=args.data_root, image_size=args.image_size,
                                    options=args.cfg_options)
    except (FileNotFoundError, ValueError, DataError) as err:
        _error(str(err))
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.source is None:
        return _run_split(args, cfg, device)
    return _run_source(args, cfg, device)


def _run_onnx(args: argparse.Namespace) -> int:
    """``predict MODEL.onnx SOURCE``: an exported model (``srtod export``) with ONNX Runtime; the
    second positional is the SOURCE (an exported model has no checkpoint). Without it, the split
    of ``--data-root``."""
    if args.source is not None:
        _error(f"an exported model takes no checkpoint: predict {args.config} SOURCE")
        return 2
    fixed = [opt for opt, v in (("--dataset", args.dataset), ("--image-size", args.image_size),
                                ("--cfg-options", args.cfg_options)) if v]
    if args.checkpoint is not None and args.data_root:
        fixed.insert(0, "--data-root")
    if fixed:
        _error(f"{', '.join(fixed)}: not for an exported model (fixed at export; without SOURCE, "
               "--data-root names the data set whose split is predicted)")
        return 2
    if args.checkpoint is None:
        return _run_onnx_split(args)
    args.source, args.checkpoint = args.checkpoint, None
    return _run_source(args, None, args.device)


def _run_onnx_split(args: argparse.Namespace) -> int:
    """``predict MODEL.onnx --data-root DIR``: ``DIR/images/<split>/`` against
    ``DIR/annotations/<split>.json``, every detection kept unless ``--score-thr``; written and
    evaluated as :func:`_run_split` does for ``CONFIG CHECKPOINT``."""
    from ..predictor import Detector, predict_coco

    if not args.data_root:
        _error(f"predict {args.config} needs a SOURCE, or --data-root DIR for a split of a "
               "COCO-format data set (an exported model holds no data set)")
        return 2
    root = Path(args.data_root)
    gt = root / "annotations" / f"{args.split}.json"
    if not gt.is_file():
        _error(f"{gt} does not exist (--data-root DIR holds annotations/<split>.json and "
               "images/<split>/)")
        return 2
    try:
        detector = Detector(args.config, device=args.device,
                            score_thr=args.score_thr if args.score_thr is not None else 0.0)
    except (FileNotFoundError, RuntimeError) as err:
        _error(str(err))
        return 2
    results = predict_coco(detector, gt, root / "images" / args.split,
                           progress=not args.no_progress)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results))
    return _written(out, gt, args.evaluate)


def _run_split(args: argparse.Namespace, cfg, device: str) -> int:
    from ..inference import CheckpointError, predict_split

    try:
        out = predict_split(cfg, args.checkpoint, args.out, args.split, device=device, strict=True)
    except CheckpointError as err:
        _error(str(err))
        return 2
    if args.score_thr is not None:  # asked for: keep the detections at or above it
        import json

        dets = json.loads(Path(out).read_text())
        kept = [d for d in dets if d["score"] >= args.score_thr]
        Path(out).write_text(json.dumps(kept))
        print(f"score >= {args.score_thr}: kept {len(kept)} of {len(dets)} detections")
    dataset = cfg[f"{args.split}_dataloader"]["dataset"]
    return _written(out, Path(dataset["data_root"]) / dataset["ann_file"], args.evaluate)


def _written(out: Path, gt: Path, evaluate: bool) -> int:
    """Say where a split's detections are, and with ``evaluate`` print their metrics on ``gt``."""
    print(f"detections: {out}")
    if evaluate:
        from ..evaluation import evaluate_coco, metrics_table

        print(metrics_table(evaluate_coco(gt, out)))
    return 0


def _run_source(args: argparse.Namespace, cfg, device: str) -> int:
    from tqdm.auto import tqdm

    from ..image_sources import collect_sources
    from ..inference import CheckpointError
    from ..prediction_output import predict_to_folder
    from ..predictor import Detector
    from ..sliced_inference import SliceConfig

    def warn(msg: str) -> None:
        tqdm.write(msg, file=sys.stderr)

    try:
        sources = collect_sources(args.source)
    except FileNotFoundError as err:
        _error(str(err))
        return 1
    if not sources.images and not sources.videos:
        what = f" ({len(sources.skipped)} other files skipped)" if sources.skipped else ""
        _error(f"no images or videos in {args.source}{what}; nothing to predict")
        return 1
    slice_cfg = None
    if args.slice:
        try:
            slice_cfg = SliceConfig(args.slice[0], args.slice[1], overlap=args.overlap,
                                    full_frame=not args.no_full_frame, merge=args.merge,
                                    match_metric=args.match_metric, match_thr=args.match_thr)
        except ValueError as err:
            _error(str(err))
            return 2
    score_thr = DEFAULT_SCORE_THR if args.score_thr is None else args.score_thr
    try:
        detector = Detector(args.config if cfg is None else cfg, args.checkpoint, device=device,
                            score_thr=score_thr)
    except (CheckpointError, FileNotFoundError, RuntimeError) as err:
        _error(str(err))
        return 2
    for msg in sources.skipped:  # after the model loaded: a checkpoint error comes alone
        warn(msg)
    out_dir = Path(args.out_dir)
    done = predict_to_folder(detector, sources, out_dir, batch_size=args.batch_size,
                             slice=slice_cfg, vis=not args.no_vis, crops=args.save_crops,
                             maps=not args.no_maps, progress=not args.no_progress, warn=warn)
    n_skipped = len(sources.skipped) + done.bad
    per_image = f"{done.seconds / done.images:.3f} s/image" if done.images else "no image"
    damaged = f", {done.damaged} damaged" if done.damaged else ""
    print(f"{done.images} images, {done.detections} detections, {per_image}, {n_skipped} "
          f"skipped{damaged} -> {out_dir}")
    if done.images == 0:
        _error(f"no image of {args.source} could be processed")
        return 1
    return 0
