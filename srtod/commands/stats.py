"""``python -m srtod stats``: objects per image and object sizes per split (AI-TOD buckets)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+",
                        help="data root(s) with annotations/<split>.json, or COCO json file(s)")
    parser.add_argument("--out", help="write the statistics as json here")
    parser.add_argument("--csv", help="write the per-object table (pandas) as csv here")


def run(args: argparse.Namespace) -> int:
    from srtod.commands.errors import guarded

    def main() -> int:
        from srtod.data.cocoio import DataError, dump_json
        from srtod.data.stats import find_splits, format_stats, object_table, split_stats

        files: dict[str, Path] = {}
        for target in map(Path, args.targets):
            found = find_splits(target) if target.is_dir() else {target.stem: target}
            if not found:
                raise DataError(f"{target}: no annotations/<split>.json found")
            for split, path in found.items():
                key = split if split not in files else f"{target.name}/{split}"
                files[key] = path
        stats = split_stats(files)
        print(format_stats(stats))
        if args.out:
            dump_json(stats, args.out, indent=1)
            print(f"statistics: {args.out}")
        if args.csv:
            Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
            object_table(files).to_csv(args.csv, index=False)
            print(f"objects: {args.csv}")
        return 0

    return guarded(main)
