"""``python -m srtod convert``: VisDrone2019-DET txt annotations -> COCO json.

Either a VisDrone root holding ``VisDrone2019-DET-<split>/`` folders (writes
``<root>/annotations/<split>.json`` and links ``<root>/images/<split>``), or one split folder with
``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="VisDrone root (e.g. data/raw/visdrone) or one split folder "
                                       "(with images/ and annotations/)")
    parser.add_argument("--out", help="output COCO json (needed for a single split folder)")
    parser.add_argument("--no-link", action="store_true",
                        help="root mode: do not create images/<split> symlinks")
    parser.add_argument("--quiet", action="store_true", help="print only the counts")


def run(args: argparse.Namespace) -> int:
    from srtod.commands.errors import guarded

    def main() -> int:
        from srtod.data.cocoio import DataError
        from srtod.data.visdrone import convert_visdrone, convert_visdrone_root

        src = Path(args.source)
        if not src.exists():
            raise DataError(f"{src}: no such folder")
        if (src / "annotations").is_dir() and any((src / "annotations").glob("*.txt")):
            if not args.out:
                raise DataError(f"{src} is a single split folder: give the output json with --out")
            reports = {src.name: convert_visdrone(src, args.out)}
        else:
            reports = convert_visdrone_root(src, link_images=not args.no_link)
        for report in reports.values():
            print(report.summary(max_lines=0 if args.quiet else 20))
        return 0

    return guarded(main)
