"""GPU check of the threshold study's modes and of ``srtod threshold`` on the paper path.

The threshold study (docs/results/threshold_study) trained its modes on CPUs only. Here each of
them trains the paper Faster R-CNN w/ SR-TOD on generated 1920 x 1080 frames on a GPU, in fp32 and
with ``--amp``, with random weights (:func:`benchmarks.gpu_check.train_run`):

- ``learnable`` (paper Eq. 4 as written, t = 40/255: the default), ``quantile`` (q = 0.9308, the
  study's adaptive row), ``learnable_ste`` (straight-through t) and ``none`` (no binarization);
- reported per mode and precision: it/s, peak GPU memory, whether every loss was finite, and the
  last iteration's t and share of pixels D_b switched on (``srtod_t``, ``srtod_on``).

Then the threshold curve of the ``learnable`` run's checkpoint is measured on the test split twice,
on the GPU and on the CPU (:func:`srtod.threshold_choice.measure_threshold`), and the two curves
are compared column by column: a user who measures t on a GPU gets the CPU's answer.

    python benchmarks/gpu_threshold_check.py --out results/gpu_check/gpu_threshold_check.json

Run it after ``source scripts/gpu_env.sh`` (``bash scripts/gpu_check.sh`` documents the set-up).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from gpu_check import CONFIG, add_run_arguments, generate_frames, select_device, train_run

MODES = {  # fixed before the first run: the study's rows that change the threshold
    "learnable": dict(mode="learnable"),
    "quantile": dict(mode="quantile", quantile=0.9308),
    "learnable_ste": dict(mode="learnable_ste"),
    "none": dict(mode="none"),
}
CURVE_COLUMNS = ("background_on", "mask_share", "touched_vt", "touched_t", "covered_vt",
                 "covered_t")


def curve_on(device: str, cfg, checkpoint: str, out: Path) -> tuple[dict, object, float]:
    import pandas as pd

    from srtod.threshold_choice import measure_threshold

    start = time.perf_counter()
    summary = measure_threshold(cfg, checkpoint, out, split="test", device=device)
    seconds = time.perf_counter() - start
    return summary, pd.read_csv(out / "curve.csv"), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, iters=30, amp_iters=20, train_images=12, test_images=4)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--out", type=Path,
                        default=Path("results/gpu_check/gpu_threshold_check.json"))
    parser.add_argument("--work", type=Path, default=Path("work_dirs/gpu_threshold_check"),
                        help="checkpoints and curves")
    args = parser.parse_args()
    select_device(args)

    from srtod.config import load_config, random_init

    generate_frames(args.data, args.train_images, args.test_images)
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    report: dict = dict(gpu=gpu, torch=torch.__version__, cuda=torch.version.cuda, config=CONFIG,
                        modes=MODES, train={})
    work = args.work
    kw = dict(data=args.data, batch=args.batch, workers=args.workers,
              train_images=args.train_images)
    for name in args.modes:
        options = {"model.srtod.dgfe.threshold": MODES[name]}
        runs = {"fp32": train_run(CONFIG, work_dir=work / name / "fp32", iters=args.iters,
                                  amp=False, options=options, **kw)}
        if args.amp_iters:
            runs["amp"] = train_run(CONFIG, work_dir=work / name / "amp", iters=args.amp_iters,
                                    amp=True, options=options, **kw)
        report["train"][name] = runs
        for precision, r in runs.items():
            print(f"{name} {precision}: {r['its']} it/s, peak {r['peak_mem_gb']} GB, losses "
                  f"finite {r['losses_finite']}, t {r['srtod_t']}, D_b on {r['srtod_on']}",
                  flush=True)

    if "learnable" in report["train"]:
        checkpoint = report["train"]["learnable"]["fp32"]["checkpoint"]
        cfg = random_init(load_config(CONFIG, data_root=args.data))
        devices = [args.device] + (["cpu"] if args.device != "cpu" else [])
        curves = {d: curve_on(d, cfg, checkpoint, work / f"curve_{d}") for d in devices}
        report["curve"] = {d: dict(seconds=round(s, 1), recommended_t255=summ["recommended"]["t255"],
                                   n_images=summ["n_images"], n_boxes=summ["n_boxes"])
                           for d, (summ, _, s) in curves.items()}
        if len(devices) == 2:
            (_, a, _), (_, b, _) = curves[devices[0]], curves["cpu"]
            report["curve"]["max_abs_diff"] = {c: float((a[c] - b[c]).abs().max())
                                               for c in CURVE_COLUMNS if c in a}
        print(f"threshold curve: {report['curve']}", flush=True)

    print("\n| mode | precision | it/s | peak GPU memory (GB) | losses finite | t x 255 (last) "
          "| D_b on (last) |\n|---|---|---|---|---|---|---|")
    for name, runs in report["train"].items():
        for precision, r in runs.items():
            t = "-" if r["srtod_t"] is None else f"{255 * r['srtod_t']:.2f}"
            on = "-" if r["srtod_on"] is None else f"{100 * r['srtod_on']:.2f}%"
            print(f"| {name} | {precision} | {r['its']} | {r['peak_mem_gb']} | "
                  f"{r['losses_finite']} | {t} | {on} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nreport: {args.out}")
    bad = [f"{n} {p}" for n, runs in report["train"].items() for p, r in runs.items()
           if not r["losses_finite"]]
    if bad:
        raise SystemExit(f"error: the training loss is not finite ({', '.join(bad)})")


if __name__ == "__main__":
    main()
