"""``python -m srtod export CONFIG CHECKPOINT --format onnx``: a trained detector as ``model.onnx``
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
    parser.add_argument("config", help="config file, or a path relative to srtod/configs")
    parser.add_argument("checkpoint", help="checkpoint file of that config's model")
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="export format (onnx)")
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"),
                        help="network input H x W of the graph (default: the test pipeline's "
                             "resize scale, landscape, padded as the preprocessor pads)")
    parser.add_argument("--out", default="work_dirs/export",
                        help="folder for model.onnx and model.json (work_dirs/export)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset, {MIN_OPSET}-{MAX_OPSET} (default {DEFAULT_OPSET})")
    parser.add_argument("--dynamic", action="store_true",
                        help="any input size: anchors computed in the graph, each image padded as "
                             "mmdet pads it (PyTorch's detections for every image shape)")
    parser.add_argument("--no-maps", action="store_true",
                        help="SR-TOD models: leave D and D_b out of the graph's outputs")


def run(args: argparse.Namespace) -> int:
    from ..export import ExportError, export_onnx
    from ..inference import CheckpointError

    try:
        path = export_onnx(args.config, args.checkpoint, args.out, image_size=args.image_size,
                           opset=args.opset, maps=not args.no_maps,
                           dynamic=args.dynamic)
    except (ExportError, CheckpointError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"exported: {path} ({path.stat().st_size / 1e6:.1f} MB) and {path.with_suffix('.json')}")
    return 0
