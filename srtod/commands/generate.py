"""``python -m srtod generate``: write the synthetic anti-UAV data set (COCO format)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="data/synthetic",
                        help="output folder (images/<split>/, annotations/<split>.json)")
    parser.add_argument("--train", type=int, default=300, help="number of train images")
    parser.add_argument("--val", type=int, default=60, help="number of val images")
    parser.add_argument("--test", type=int, default=60, help="number of test images")
    parser.add_argument("--size", type=int, nargs="+", default=[512], metavar="PX",
                        help="image size: one value (square) or H W (default 512)")
    parser.add_argument("--seed", type=int, default=0, help="data set seed (same seed, same bytes)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--summary", help="also write the summary json here")


def run(args: argparse.Namespace) -> int:
    from srtod.commands.errors import guarded

    def main() -> int:
        from srtod.data.cocoio import dump_json
        from srtod.data.synthetic import generate_dataset

        if len(args.size) not in (1, 2):
            raise ValueError(f"--size takes 1 or 2 values (H W), got {len(args.size)}")
        size = (args.size[0], args.size[-1])
        summary = generate_dataset(args.out, num_images={"train": args.train, "val": args.val,
                                                         "test": args.test},
                                   image_size=size, seed=args.seed, progress=not args.no_progress)
        for split, s in summary["splits"].items():
            print(f"{split:<6} {s['images']:>6} images {s['instances']:>7} drones  {s['ann_file']}")
        print(f"{summary['images_per_second']} images/s")
        if args.summary:
            dump_json(summary, args.summary, indent=1)
        else:
            print(json.dumps({k: v for k, v in summary.items() if k != "splits"}))
        return 0

    return guarded(main)
