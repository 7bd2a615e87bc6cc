"""srtod's sliced inference against SAHI's on the same checkpoint and frames, side by side in one
run (issue 28).

SAHI 0.12 (``sahi.predict.get_sliced_prediction`` with its MMDetection wrapper, which builds the
model from the config and checkpoint through mmdet's ``DetInferencer``; the config's
``custom_imports`` registers srtod's modules) and ``srtod.Detector.predict(frame, slice=...)`` run
with the same settings: slices of the checkpoint's training size, the same overlap ratio (the same
windows: ``srtod.sliced_inference.slice_windows`` follows SAHI's rule), the whole-frame pass added
on both sides (SAHI's ``perform_standard_pred``), the same merge (class-wise greedy NMS or NMM,
metric and threshold; SAHI's switch to NMS/IoU below a score of 0.1 is turned off), the same score
threshold, CPU, one torch thread. srtod's PyTorch models run channels-last convolutions on the CPU
(``srtod.engine.to_channels_last``), mmdet's (SAHI's) NCHW ones: one more row runs srtod with NCHW,
to separate that from the rest. Every method runs on frame i before any runs on frame i+1, in an
order that rotates per frame, so the time ratios hold for the same load. Generated 1920 x 1080
frames and the AI-TOD scoring are those of ``benchmarks/bench_large_frames.py``
(:mod:`srtod.stages.detect`).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_sahi.py CONFIG CKPT --frames 6 \\
        --out docs/results/sahi

SAHI is not in ``requirements/base.txt``: ``pip install --no-deps -r requirements/sahi.txt``.
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

METRICS = ("AP", "AP50", "APvt", "APt")


def sahi_model(config: str | Path, checkpoint: str | Path, score_thr: float, device: str = "cpu"):
    """SAHI's MMDetection wrapper on ``config`` + ``checkpoint``, as its documentation builds it.
    mmengine's checkpoints hold its own classes, which torch >= 2.6 loads only once allowed (srtod
    allows them for its own loading too)."""
    from sahi.models.mmdet import MmdetDetectionModel

    from srtod.engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    return MmdetDetectionModel(model_path=str(checkpoint), config_path=str(config), device=device,
                               confidence_threshold=score_thr)


def sahi_predict(model, bgr: np.ndarray, cfg, img_id: int = 0):
    """SAHI's sliced prediction of a BGR frame with the settings of ``cfg``
    (:class:`srtod.sliced_inference.SliceConfig`), as a :class:`srtod.inference.Prediction`."""
    from sahi.predict import get_sliced_prediction

    from srtod.prediction import Prediction

    result = get_sliced_prediction(
        np.ascontiguousarray(bgr[..., ::-1]), model,  # SAHI takes RGB and flips it for mmdet
        slice_height=cfg.height, slice_width=cfg.width, overlap_height_ratio=cfg.overlap,
        overlap_width_ratio=cfg.overlap, perform_standard_pred=cfg.full_frame,
        postprocess_type="NMS" if cfg.merge == "nms" else "GREEDYNMM",
        postprocess_match_metric=cfg.match_metric.upper(), postprocess_match_threshold=cfg.match_thr,
        postprocess_class_agnostic=False, force_postprocess_type=True, verbose=0)
    preds = result.object_prediction_list
    return Prediction(img_id=img_id, img_path="",
                      bboxes=np.array([p.bbox.to_xyxy() for p in preds], np.float32).reshape(-1, 4),
                      scores=np.array([p.score.value for p in preds], np.float32),
                      labels=np.array([p.category.id for p in preds], np.int64))


def weight_gap(sahi, detector) -> float:
    """Largest difference between SAHI's model weights and srtod's (0: the same checkpoint was
    loaded in full on both sides)."""
    theirs = sahi.model.model.state_dict()
    ours = detector.model.state_dict()
    assert theirs.keys() == ours.keys(), set(theirs) ^ set(ours)
    return max(float((theirs[k].float() - ours[k].float()).abs().max()) if theirs[k].numel() else 0.
               for k in ours)


def speed_vs_sahi(sahi_s: list[float], method_s: list[float]) -> float:
    """The median over frames of SAHI's seconds over the method's on the same frame: the load of
    a shared machine changes between frames, hardly between the methods' runs on one frame."""
    return float(np.median(np.asarray(sahi_s) / np.asarray(method_s)))


def _markdown(rows: list[dict], meta: dict) -> str:
    head = ["method", "s/frame (median)", "s/frame (mean)", "vs SAHI", *METRICS,
            "detections/frame", "same detections as SAHI"]
    lines = [f"| {' | '.join(head)} |", f"|{' --- |' * len(head)}"]
    for r in rows:
        cells = [r["method"], f"{r['s_median']:.2f}", f"{r['s_mean']:.2f}",
                 f"{r['speed_vs_sahi']:.2f}x", *(f"{r[m]:.1f}" for m in METRICS),
                 f"{r['detections_per_frame']:.0f}", f"{100 * r['same_as_sahi']:.1f}%"]
        lines.append(f"| {' | '.join(cells)} |")
    s = meta["slice"]
    lines += ["", f"{meta['frames']} generated {meta['frame']} frames, {meta['objects']} drones; "
              f"slices {s['height']} x {s['width']}, overlap {s['overlap']}, + full frame: "
              f"{s['full_frame']}, merge {s['merge'].upper()} / {s['match_metric'].upper()} >= "
              f"{s['match_thr']}, score >= {meta['score_thr']}; {meta['threads']} torch thread(s), "
              f"CPU; sahi {meta['sahi']}, commit `{meta['commit']}`. vs SAHI: SAHI's seconds "
              "over the method's on the same frame, median over the frames (above 1: faster than "
              "SAHI). Same detections: the detections of "
              "the method and SAHI that pair one to one (same label, box within 0.5 px, score "
              "within 1e-3), over the larger of the two counts."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", help="the checkpoint's config (e.g. the one dumped in its work_dir)")
    ap.add_argument("checkpoint")
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path("results/large_frames/frames"),
                    help="where the generated frames go (made once, then reused)")
    ap.add_argument("--slice", type=int, default=None,
                    help="slice side (default: the config's test input size, its training size)")
    ap.add_argument("--overlap", type=float, default=0.2)
    ap.add_argument("--merge", choices=["nms", "nmm"], default="nms")
    ap.add_argument("--match-metric", choices=["ios", "iou"], default="ios")
    ap.add_argument("--match-thr", type=float, default=0.5)
    ap.add_argument("--no-full-frame", action="store_true")
    ap.add_argument("--score-thr", type=float, default=0.05,
                    help="0.05, the slim configs' own test threshold: every detection they return")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8],
                    help="srtod PyTorch: slices per forward pass")
    ap.add_argument("--no-onnx", action="store_true", help="leave srtod on ONNX Runtime out")
    ap.add_argument("--no-nchw", action="store_true",
                    help="leave out srtod PyTorch with SAHI's (mmdet's) NCHW convolutions")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("results/sahi"))
    args = ap.parse_args()

    try:
        import sahi
    except ImportError:
        print("error: sahi is not installed: pip install --no-deps -r requirements/sahi.txt "
              "(docs/results/sahi/README.md says why --no-deps)", file=sys.stderr)
        return 2
    import torch

    from srtod import Detector
    from srtod.config import load_config
    from srtod.export import default_input_size, export_onnx
    from srtod.image_sources import read_image
    from srtod.paths import portable, repo_commit
    from srtod.prediction import matched
    from srtod.sliced_inference import SliceConfig
    from srtod.stages.detect import frame_ids, large_frames, score_frames

    torch.set_num_threads(args.threads)
    size = args.slice or max(default_input_size(load_config(args.config)))
    cfg = SliceConfig(size, size, overlap=args.overlap, full_frame=not args.no_full_frame,
                      merge=args.merge, match_metric=args.match_metric, match_thr=args.match_thr)
    gt = json.loads(large_frames(args.data, args.frames, seed=args.seed).read_text())
    frames = [args.data / "images" / "test" / im["file_name"]
              for im in sorted(gt["images"], key=lambda im: im["id"])]
    ids = frame_ids(frames, gt)
    args.out.mkdir(parents=True, exist_ok=True)

    sahi_det = sahi_model(args.config, args.checkpoint, args.score_thr)
    torch_det = Detector(args.config, args.checkpoint, device="cpu", score_thr=args.score_thr)
    gap = weight_gap(sahi_det, torch_det)
    if gap:
        raise SystemExit(f"error: SAHI's model weights differ from srtod's by {gap}")
    methods = {"SAHI": lambda img, k: sahi_predict(sahi_det, img, cfg, k)}
    for b in args.batch_sizes:
        methods[f"srtod PyTorch, batch {b}"] = (
            lambda img, k, b=b: torch_det.predict(img, slice=cfg, batch_size=b, img_id=k))
    if not args.no_nchw:  # srtod's CPU models run channels-last convolutions; SAHI's do not
        nchw_det = Detector(args.config, args.checkpoint, device="cpu", score_thr=args.score_thr)
        nchw_det.model.to(memory_format=torch.contiguous_format)
        methods["srtod PyTorch, batch 1, NCHW"] = (
            lambda img, k: nchw_det.predict(img, slice=cfg, batch_size=1, img_id=k))
    export_s = None
    tmp = tempfile.TemporaryDirectory()  # the exported graph: not a result
    if not args.no_onnx:
        start = time.perf_counter()
        onnx = export_onnx(args.config, args.checkpoint, Path(tmp.name) / "export", dynamic=True)
        export_s = time.perf_counter() - start
        onnx_det = Detector(onnx, score_thr=args.score_thr, threads=args.threads)
        methods["srtod ONNX Runtime"] = lambda img, k: onnx_det.predict(img, slice=cfg, img_id=k)

    warm = read_image(frames[0])[: 2 * size, : 2 * size]
    for fn in methods.values():  # first calls build pipelines and caches: not timed
        fn(warm, 0)
    names = list(methods)
    times = {n: [] for n in names}
    preds = {n: [] for n in names}
    for i, (frame, img_id) in enumerate(zip(frames, ids, strict=True)):
        img = read_image(frame)
        for n in names[i % len(names):] + names[: i % len(names)]:
            start = time.perf_counter()
            preds[n].append(methods[n](img, img_id))
            times[n].append(time.perf_counter() - start)
        print(f"frame {i + 1}/{len(frames)}: "
              + ", ".join(f"{n} {times[n][-1]:.1f} s" for n in names), flush=True)

    rows = []
    for n in names:
        metrics = score_frames(gt, preds[n])
        pairs = [matched(r, g) for r, g in zip(preds["SAHI"], preds[n], strict=True)]
        total = sum(max(len(r.scores), len(g.scores)) for r, g in zip(preds["SAHI"], preds[n],
                                                                      strict=True))
        rows.append(dict(method=n, s_median=float(np.median(times[n])),
                         s_mean=float(np.mean(times[n])),
                         speed_vs_sahi=speed_vs_sahi(times["SAHI"], times[n]),
                         **{m: float(metrics[m]) for m in METRICS},
                         detections_per_frame=float(np.mean([len(p.scores) for p in preds[n]])),
                         same_as_sahi=sum(p[0] for p in pairs) / max(total, 1),
                         max_box_gap_px=max(p[1] for p in pairs),
                         max_score_gap=max(p[2] for p in pairs), seconds=times[n]))
    meta = dict(frames=len(frames), frame="1920x1080", objects=len(gt["annotations"]),
                config=portable(args.config), checkpoint=portable(args.checkpoint),
                slice=dict(height=cfg.height, width=cfg.width, overlap=cfg.overlap,
                           full_frame=cfg.full_frame, merge=cfg.merge,
                           match_metric=cfg.match_metric, match_thr=cfg.match_thr),
                score_thr=args.score_thr, threads=torch.get_num_threads(), sahi=sahi.__version__,
                torch=torch.__version__, onnx_export_s=export_s, commit=repo_commit(),
                machine=f"{platform.machine()}, {os.cpu_count()} cores, Python "
                        f"{platform.python_version()}",
                command="OMP_WAIT_POLICY=PASSIVE python " + " ".join(sys.argv))
    tmp.cleanup()
    (args.out / "sahi.json").write_text(json.dumps(dict(meta, rows=rows), indent=2) + "\n")
    text = _markdown(rows, meta)
    (args.out / "sahi.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
