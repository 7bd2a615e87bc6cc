"""``python -m srtod predict CONFIG CHECKPOINT``: detections of a split as COCO results json, and
optionally their AI-TOD evaluation."""

from __future__ import annotations

import argparse
import sys

from . import add_device_argument, device_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument("config", help="config file, or a path relative to srtod/configs")
    parser.add_argument("checkpoint", help="checkpoint file or URL")
    parser.add_argument("--split", choices=["val", "test"], default="test")
    parser.add_argument("--out", default="detections.json", help="COCO results json to write")
    parser.add_argument("--dataset", help="switch the data set: synthetic, droneswarms, visdrone, aitod")
    parser.add_argument("--data-root", help="folder with images/ and annotations/")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side")
    parser.add_argument("--evaluate", action="store_true", help="also print AI-TOD metrics")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    add_device_argument(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..config import load_config
    from ..inference import predict_split

    device = device_of(args)
    if device is None:
        return 2
    cfg = load_config(args.config, dataset=args.dataset, data_root=args.data_root,
                      image_size=args.image_size, options=args.cfg_options)
    if not Path(args.checkpoint).is_file() and "://" not in args.checkpoint:
        print(f"error: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    out = predict_split(cfg, args.checkpoint, args.out, args.split, device=device)
    print(f"detections: {out}")
    if args.evaluate:
        from ..evaluation import evaluate_coco, metrics_table

        dataset = cfg[f"{args.split}_dataloader"]["dataset"]
        gt = Path(dataset["data_root"]) / dataset["ann_file"]
        print(metrics_table(evaluate_coco(gt, out)))
    return 0
