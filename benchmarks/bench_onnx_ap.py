"""PyTorch against ONNX Runtime on a data set's split: one checkpoint's AI-TOD metrics through the
pipeline's path and through its exported graph, side by side, with the per-image agreement of
the detections (issue 28: the two agree to 0.1 AP).

PyTorch: :func:`srtod.inference.predict_split` (the config's test data loader and mmdet's
``test_step``, what the evaluate stage runs). ONNX Runtime: the checkpoint exported by
``srtod export`` and run by ``python -m srtod predict model.onnx --data-root DIR``
(:func:`srtod.predictor.predict_coco`). Both keep every detection the model returns and are
scored by :func:`srtod.evaluation.evaluate_coco` (AI-TOD protocol).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_onnx_ap.py CONFIG CKPT \\
        --data-root data/prepared --out docs/results/onnx/test_split
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: shared cores

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

METRICS = ("AP", "AP50", "AP75", "APvt", "APt", "AR@1500")


def _by_image(records: list[dict], ids: list[int]):
    """COCO results as one :class:`srtod.prediction.Prediction` per image id (label = category)."""
    from srtod.prediction import Prediction

    out = {i: [] for i in ids}
    for d in records:
        out[d["image_id"]].append(d)
    return {i: Prediction(img_id=i, img_path="",
                          bboxes=np.array([[x, y, x + w, y + h] for x, y, w, h in
                                           (d["bbox"] for d in ds)], np.float32).reshape(-1, 4),
                          scores=np.array([d["score"] for d in ds], np.float32),
                          labels=np.array([d["category_id"] for d in ds], np.int64))
            for i, ds in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("checkpoint")
    ap.add_argument("--data-root", type=Path, required=True,
                    help="COCO-format data set: images/<split>/, annotations/<split>.json")
    ap.add_argument("--split", default="test", choices=["val", "test"])
    ap.add_argument("--dynamic", action="store_true", help="export with --dynamic")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("results/onnx/test_split"))
    args = ap.parse_args()

    import torch

    from srtod import Detector
    from srtod.config import load_config
    from srtod.evaluation import evaluate_coco
    from srtod.export import export_onnx
    from srtod.inference import predict_split
    from srtod.paths import portable, repo_commit
    from srtod.prediction import matched
    from srtod.predictor import predict_coco

    torch.set_num_threads(args.threads)
    gt_file = args.data_root / "annotations" / f"{args.split}.json"
    gt = json.loads(gt_file.read_text())
    ids = sorted(im["id"] for im in gt["images"])
    cfg = load_config(args.config, data_root=args.data_root)
    runs, seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        out = predict_split(cfg, args.checkpoint, tmp / "pytorch.json", args.split, device="cpu",
                            progress=False, strict=True)
        seconds["PyTorch"] = time.perf_counter() - start
        runs["PyTorch"] = json.loads(Path(out).read_text())
        start = time.perf_counter()
        onnx = export_onnx(cfg, args.checkpoint, tmp / "export", dynamic=args.dynamic)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        runs["ONNX Runtime"] = predict_coco(Detector(onnx, score_thr=0.0, threads=args.threads),
                                            gt_file, args.data_root / "images" / args.split)
        seconds["ONNX Runtime"] = time.perf_counter() - start
    metrics = {k: evaluate_coco(gt, v, protocol="aitod")["metrics"] for k, v in runs.items()}
    ref, got = _by_image(runs["PyTorch"], ids), _by_image(runs["ONNX Runtime"], ids)
    pairs = [matched(ref[i], got[i]) for i in ids]
    same_images = sum(p[0] == len(ref[i].scores) == len(got[i].scores)
                      for p, i in zip(pairs, ids, strict=True))
    rows = [dict(metric=m, pytorch=float(metrics["PyTorch"][m]),
                 onnx_runtime=float(metrics["ONNX Runtime"][m]),
                 difference=float(metrics["ONNX Runtime"][m] - metrics["PyTorch"][m]))
            for m in METRICS]
    record = dict(
        config=portable(args.config), checkpoint=portable(args.checkpoint),
        data=portable(gt_file), images=len(ids), objects=len(gt["annotations"]),
        detections={k: len(v) for k, v in runs.items()}, images_with_the_same_detections=same_images,
        detections_paired=sum(p[0] for p in pairs), max_box_gap_px=max(p[1] for p in pairs),
        max_score_gap=max(p[2] for p in pairs), dynamic=args.dynamic, export_s=export_s,
        seconds=seconds, threads=args.threads, commit=repo_commit(), torch=torch.__version__,
        machine=f"{platform.machine()}, {os.cpu_count()} cores",
        command="OMP_WAIT_POLICY=PASSIVE python " + " ".join(sys.argv), rows=rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "test_split.json").write_text(json.dumps(record, indent=2) + "\n")
    md = ["| metric | PyTorch | ONNX Runtime | ONNX Runtime - PyTorch |", "| --- | --- | --- | --- |"]
    md += [f"| {r['metric']} | {r['pytorch']:.2f} | {r['onnx_runtime']:.2f} | "
           f"{r['difference']:+.2f} |" for r in rows]
    md += ["", f"{len(ids)} images of `{record['data']}`, {record['objects']} objects; "
           f"detections {record['detections']['PyTorch']} (PyTorch) and "
           f"{record['detections']['ONNX Runtime']} (ONNX Runtime), {record['detections_paired']} "
           f"paired one to one (same label, box within 0.5 px, score within 1e-3; largest gaps "
           f"{record['max_box_gap_px']:.1e} px and {record['max_score_gap']:.1e}); "
           f"{same_images} of {len(ids)} images with the same detections. Commit "
           f"`{record['commit']}`."]
    (args.out / "test_split.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
