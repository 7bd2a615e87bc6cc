"""Benchmark: srtod's evaluate_coco vs pycocotools (evaluate + accumulate) with the same params.

    python benchmarks/bench_eval.py --out results/bench_eval.json [--images 500 --dets 1500]

Random ground truth and detections (fixed seed, every AI-TOD bucket populated). Our time is
end to end (input checks, evaluation, every summary number, per-class AP); pycocotools' time is
only ``COCOeval.evaluate() + accumulate()`` on already-indexed ground truth and results (its
loading is reported separately), so the ratio is conservative. Also checks that both give the
same precision/recall arrays.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the seeded problems

from random_problems import random_detection_problem  # noqa: E402

from srtod.evaluation import evaluate_coco, get_protocol  # noqa: E402


def run_pycocotools(gt: dict, dets: list, protocol: str) -> tuple[float, float, dict]:
    """(load seconds, evaluate+accumulate seconds, eval dict) with pycocotools."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    proto = get_protocol(protocol)
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        coco_gt = COCO()
        coco_gt.dataset = {**gt, "info": {}, "annotations": [dict(a) for a in gt["annotations"]]}
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes([dict(d, bbox=list(d["bbox"])) for d in dets])
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.areaRng = proto.area_rng
        ev.params.areaRngLbl = proto.area_rng_lbl
        ev.params.maxDets = list(proto.max_dets)
        t1 = time.perf_counter()
        ev.evaluate()
        ev.accumulate()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, ev.eval


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--dets", type=int, default=1500, help="detections per image")
    parser.add_argument("--gts", type=int, default=20, help="mean ground truths per image")
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--protocol", default="aitod")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (best is kept)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures to this json")
    args = parser.parse_args(argv)

    gt, dets = random_detection_problem(
        n_images=args.images,
        n_classes=args.classes,
        gts_per_image=args.gts,
        dets_per_image=args.dets,
        seed=args.seed,
    )
    print(
        f"{args.images} images, {len(gt['annotations'])} ground truths, {len(dets)} "
        f"detections, protocol {args.protocol}"
    )

    ours_times = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        result = evaluate_coco(gt, dets, protocol=args.protocol)
        ours_times.append(time.perf_counter() - t0)
    ours = min(ours_times)
    print(f"srtod evaluate_coco (faster-coco-eval): {ours:.2f} s (best of {len(ours_times)})")

    load_s, ref_s, ref = run_pycocotools(gt, dets, args.protocol)
    print(f"pycocotools evaluate+accumulate:        {ref_s:.2f} s (+{load_s:.2f} s loading)")
    ratio = ref_s / ours
    print(f"speed-up: {ratio:.1f}x")
    diff_p = float(np.abs(result["precision"] - ref["precision"]).max())
    diff_r = float(np.abs(result["recall"] - ref["recall"]).max())
    print(f"max |precision diff| = {diff_p:.2e}, max |recall diff| = {diff_r:.2e}")

    if args.out is not None:
        import faster_coco_eval
        import pycocotools

        figures = {
            "images": args.images,
            "ground_truths": len(gt["annotations"]),
            "detections": len(dets),
            "classes": args.classes,
            "seed": args.seed,
            "protocol": args.protocol,
            "ours_s": ours,
            "ours_runs_s": ours_times,
            "pycocotools_evaluate_accumulate_s": ref_s,
            "pycocotools_load_s": load_s,
            "speedup": ratio,
            "max_abs_precision_diff": diff_p,
            "max_abs_recall_diff": diff_r,
            "metrics": {k: (None if np.isnan(v) else v) for k, v in result["metrics"].items()},
            "versions": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "faster_coco_eval": faster_coco_eval.__version__,
                "pycocotools": getattr(pycocotools, "__version__", "unknown"),
            },
            "machine": {
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "processor": platform.processor(),
            },
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
