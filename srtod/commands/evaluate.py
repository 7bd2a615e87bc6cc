"""``python -m srtod evaluate GT_JSON DET_JSON``: AI-TOD / COCO / VisDrone box metrics.

Prints the paper-style table (percent, one decimal; ``-`` = no ground truth in the bucket) and
optionally writes the full-precision metrics to ``--out`` (JSON, ``null`` = no ground truth).
Malformed input exits with status 2 and one line naming the file, record and field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from srtod.evaluation.protocols import PROTOCOLS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "gt_json", type=Path, help="COCO ground-truth json (images, annotations, categories)"
    )
    parser.add_argument(
        "det_json", type=Path, help="COCO results json: [{image_id, category_id, bbox, score}]"
    )
    parser.add_argument(
        "--protocol",
        default="aitod",
        choices=sorted(PROTOCOLS),
        help="area ranges and detection limits (default: aitod)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write the metrics to this json file"
    )
    parser.add_argument("--classwise", action="store_true", help="also print per-class AP")


def run(args: argparse.Namespace) -> int:
    from srtod.evaluation import EvaluationInputError, evaluate_coco, metrics_table, result_to_json

    try:
        result = evaluate_coco(args.gt_json, args.det_json, protocol=args.protocol)
    except EvaluationInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(metrics_table(result, classwise=args.classwise))
    if args.out is not None:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result_to_json(result), indent=2) + "\n")
        except OSError as e:
            print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
            return 1
        print(f"\nmetrics written to {args.out}")
    return 0
