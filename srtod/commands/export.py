"""``python -m srtod export CHECKPOINT`` (or ``CONFIG CHECKPOINT``) ``--format onnx``: a trained detector as ``model.onnx``
plus ``model.json`` (classes, input size, mean/std, score threshold, outputs), to run with ONNX
Runtime (``srtod predict model.onnx SOURCE``, ``srtod.Detector('model.onnx')``; docs/deploy.md).

Everything is checked before a file is written: the opset, the model type (Faster R-CNN and
RetinaNet, with or without SR-TOD) and that the checkpoint fits the config. Exit code 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from ..export import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="a checkpoint of srtod train alone (its own config, classes "
                        "and input size); or a config file, or a path relative to srtod/configs, "
                        "before its CHECKPOINT")
    parser.add_argument("checkpoint", nargs="?", help="checkpoint file of that config's model "
                        "(after a config)")
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="export format (onnx)")
    parser.add_argument("--image-size", type=int, nargs="+", metavar="PX",
                        help="PX: resize images to this (longer) side, as train/predict "
                             "--image-size (the graph takes any size); H W: a graph of fixed "
                             "input H x W, the images resized as the checkpoint was trained and "
                             "padded to it (default: the training's resize, any size)")
    parser.add_argument("--out", default="work_dirs/export",
                        help="folder for model.onnx and model.json (work_dirs/export)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset, {MIN_OPSET}-{MAX_OPSET} (default {DEFAULT_OPSET})")
    parser.add_argument("--dynamic", action="store_true",
                        help="any input size: anchors computed in the graph, each image padded as "
                             "mmdet pads it (the default without --image-size H W; with it, H x W "
                             "is the traced example)")
    parser.add_argument("--no-maps", action="store_true",
                        help="SR-TOD models: leave D and D_b out of the graph's outputs")


def run(args: argparse.Namespace) -> int:
    import json

    from ..export import ExportError, export_onnx
    from ..inference import CheckpointError
    from . import checkpoint_first

    def error(msg: str) -> int:
        print(f"error: {msg}", file=sys.stderr)
        return 2

    problem = checkpoint_first(args, "export")
    if problem or args.checkpoint is None:
        return error(problem or f"{args.config} needs a CHECKPOINT after it")
    size = args.image_size or []
    if len(size) > 2:
        return error(f"--image-size takes PX (resize, as train --image-size) or H W (a fixed "
                     f"graph input), not {len(size)} values")
    fixed = tuple(size) if len(size) == 2 else None
    try:
        path = export_onnx(args.config, args.checkpoint, args.out, image_size=fixed,
                           opset=args.opset, maps=not args.no_maps,
                           dynamic=args.dynamic or fixed is None,
                           resize=size[0] if len(size) == 1 else None)
    except (ExportError, CheckpointError, FileNotFoundError) as err:
        return error(str(err))
    meta = json.loads(path.with_suffix(".json").read_text())
    sw, sh = meta["resize"]["scale"]
    fit = "to fit" if meta["resize"]["keep_ratio"] else "to"
    if meta["dynamic"]:
        print(f"images are resized {fit} {sw} x {sh}, as predict does, and padded as mmdet pads "
              "them (any input size): the detections of predict")
    else:
        h, w = meta["input_size"]
        print(f"fixed input {h} x {w}: images are resized {fit} {sw} x {sh} (the test pipeline's "
              f"Resize) and padded to {h} x {w}; where mmdet pads an image to another size, the "
              "detections can differ slightly from predict's (without --image-size H W the graph "
              "takes any size)")
    print(f"exported: {path} ({path.stat().st_size / 1e6:.1f} MB) and {path.with_suffix('.json')}")
    return 0
