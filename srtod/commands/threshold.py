"""``python -m srtod threshold CHECKPOINT`` (or ``CONFIG CHECKPOINT``): choose DGFE's threshold t for a data set.

Runs a trained SR-TOD (or RH-only) model over a split and measures, from its difference maps D,
what every t would switch on: the share of background pixels on and of very tiny / tiny / small
boxes touched and covered (``curve.csv``, ``threshold_curve.png``), the distribution of D on boxes
and background, and a recommended t: the largest t maximising (very tiny boxes touched) -
(background on), with the coverage at the paper's 40/255, 4/255 and 3/255 beside it
(``threshold.json``). Put the recommended t in your config as
``threshold=dict(mode='fixed', init=T)``, or its quantile as
``threshold=dict(mode='quantile', quantile=Q)`` (docs/threshold.md).
"""

from __future__ import annotations

import argparse
import sys

from . import add_device_argument, device_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument("config", help="the trained model's checkpoint alone (its own config "
                        "and data root); or its config (file, or a path relative to "
                        "srtod/configs) before the checkpoint")
    parser.add_argument("checkpoint", nargs="?", help="its checkpoint (.pth), after a config")
    parser.add_argument("--split", choices=["train", "val", "test"], default="val",
                        help="the images to measure on (default: val; choose t on data you do "
                        "not test on)")
    parser.add_argument("--dataset", help="switch the data set, as `train --dataset`")
    parser.add_argument("--data-root", help="folder with images/<split>/ and "
                        "annotations/<split>.json, as `train --data-root`")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side")
    parser.add_argument("--limit", type=int, help="measure on the first N images only")
    parser.add_argument("--out", help="output folder (default: results/threshold/<config name>)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. test_dataloader.batch_size=4")
    add_device_argument(parser)


def run(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from . import checkpoint_first

    problem = checkpoint_first(args, "threshold")
    if problem or args.checkpoint is None:
        print(f"error: {problem or f'{args.config} needs a CHECKPOINT after it'}", file=sys.stderr)
        return 2
    device = device_of(args)
    if device is None:
        return 2
    from ..checkpoint import resolve_config
    from ..paths import threshold_dir
    from ..threshold_choice import measure_threshold
    from .errors import guarded

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if not Path(args.checkpoint).is_file():
        print(f"error: {args.checkpoint}: no such checkpoint", file=sys.stderr)
        return 2
    result = {}

    def measure() -> int:
        cfg, notes = resolve_config(args.config, args.checkpoint, dataset=args.dataset,
                                    data_root=args.data_root, image_size=args.image_size,
                                    options=args.cfg_options)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        out = Path(args.out) if args.out else threshold_dir(Path(cfg.filename).stem)
        result.update(measure_threshold(cfg, args.checkpoint, out, split=args.split,
                                        device=device, limit=args.limit), out=out)
        return 0

    if guarded(measure):
        return 2
    best = result["recommended"]
    print(f"recommended t = {best['t']:.4f} ({best['t255']:.2f}/255): very tiny boxes touched "
          f"{100 * best['touched_vt']:.1f}%, background on {100 * best['background_on']:.2f}%; "
          f"the same share per image: threshold=dict(mode='quantile', quantile={best['quantile']})")
    for name, row in result["at"].items():
        print(f"  {name}: very tiny touched {100 * row['touched_vt']:.1f}%, background on "
              f"{100 * row['background_on']:.2f}%")
    print(f"written to {result['out']}")
    return 0
