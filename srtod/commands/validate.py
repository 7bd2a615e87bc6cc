"""``python -m srtod validate``: check a COCO data set, write a fixed copy and a report.

Give one json (its images are in ``--img-dir``, by default ``<root>/images/<json stem>`` for
``<root>/annotations/<stem>.json``) or a data root (every ``annotations/<split>.json``). Nothing is
written for a json that needs no fixing (unless ``--out``/``--report`` ask for it). Exit code 0
when the data set is usable (clean, or fixed copies written), 1 with ``--no-fix`` when something
needs fixing, 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="COCO json, or a data root with annotations/<split>.json")
    parser.add_argument("--img-dir", help="image folder (single json only)")
    parser.add_argument("--out", help="fixed json (single json only; default <stem>.fixed.json)")
    parser.add_argument("--report", help="report json (single json only)")
    parser.add_argument("--no-fix", action="store_true", help="only check; write no fixed copy")
    parser.add_argument("--no-decode", action="store_true",
                        help="read image headers only (faster; misses truncated files)")


def _default_img_dir(ann_file: Path) -> Path:
    return ann_file.parent.parent / "images" / ann_file.stem


def run(args: argparse.Namespace) -> int:
    from srtod.commands.errors import guarded

    def main() -> int:
        from srtod.data.cocoio import DataError
        from srtod.data.stats import find_splits
        from srtod.data.validate import validate_coco

        target = Path(args.target)
        if target.is_dir():
            if args.img_dir or args.out or args.report:
                raise DataError("--img-dir/--out/--report apply to a single json, not a root")
            jobs = [(f, _default_img_dir(f), None, None) for f in find_splits(target).values()]
            if not jobs:
                raise DataError(f"{target}: no annotations/<split>.json found")
        else:
            img_dir = Path(args.img_dir) if args.img_dir else _default_img_dir(target)
            jobs = [(target, img_dir, args.out, args.report)]
        clean = True
        for ann_file, img_dir, out, report_json in jobs:
            report = validate_coco(ann_file, img_dir, out, fix=not args.no_fix,
                                   report_json=report_json, decode=not args.no_decode,
                                   write_clean=bool(out or report_json))
            clean &= report.ok
        if not clean and not args.no_fix and target.is_dir():
            print("to train on the fixed annotations: `python -m srtod train CONFIG --data-root "
                  f"{target} --fix-data` (fixes them the same way, in the run's work dir)")
        return 0 if clean or not args.no_fix else 1

    return guarded(main)
