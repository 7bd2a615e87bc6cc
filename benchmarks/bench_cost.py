"""Benchmark: cost of SR-TOD (parameters, FLOPs, CPU inference time) vs the baseline detector.

    python benchmarks/bench_cost.py --out results/bench_cost.json [--threads 2] [--quick]

(a) Parameters and FLOPs of the SR-TOD block alone, per variant (DGFE fusion attention = EA /
    multiply = EM / concat, and RH only; pixel (PD) vs high-frequency (HFD) difference map), for
    the paper setting (C=256 from P2, 800x1344) and the slim setting (C=64 from P2, 256x256).
(b) Faster R-CNN baseline vs w/ SR-TOD at the same image size: slim R18 at 256x256 and the
    paper's R50 FPN at 800x1344 (``backbone.init_cfg=None``: random weights, no download;
    3 timed runs). Parameters, GFLOPs of ``model._forward``, median CPU time of ``test_step``.
(c) Everything to ``--out`` (json) and markdown tables on stdout.

FLOPs: 1 multiply-add = 2 FLOPs, conv/linear/matmul only, transposed convolutions per input
pixel (see :mod:`srtod.complexity`). ``--quick`` skips the 800x1344 detectors.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see srtod.complexity.interleaved_costs

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from srtod.complexity import cost_table, head_cost  # noqa: E402

HEAD_SETTINGS = {"paper (C=256, P2, 800x1344)": (256, 4, (800, 1344)),
                 "slim (C=64, P2, 256x256)": (64, 4, (256, 256))}
FUSIONS = {"EA (attention)": "attention", "EM (multiply)": "multiply", "concat": "concat",
           "RH only": None}
DIFF_MAPS = {"PD": "pixel", "HFD": "highfreq"}
DETECTORS = [
    ("faster-rcnn_r18-slim", (256, 256), 5,
     "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
     "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"),
    ("faster-rcnn_r50", (800, 1344), 3,
     "faster_rcnn/faster-rcnn_r50_fpn_20e_droneswarms.py",
     "faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py"),
]


def head_table() -> pd.DataFrame:
    rows = []
    for setting, (channels, stride, size) in HEAD_SETTINGS.items():
        for fname, fusion in FUSIONS.items():
            for dname, kind in DIFF_MAPS.items():
                c = head_cost(channels, stride, size, fusion=fusion, diff_map=kind)
                rows.append(dict(setting=setting, dgfe=fname, dmap=dname,
                                 params_K=c["params"] / 1e3, rh_params_K=c["params_recon_head"] / 1e3,
                                 dgfe_params_K=c["params_dgfe"] / 1e3, gflops=c["gflops"],
                                 rh_gflops=c["flops_recon_head"] / 1e9,
                                 dgfe_gflops=c["flops_dgfe"] / 1e9,
                                 elementwise_gflops=c["flops_elementwise"] / 1e9,
                                 dmap_elementwise_gflops=c["flops_elementwise_diff_map"] / 1e9))
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/bench_cost.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="skip the 800x1344 R50 detectors")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    heads = head_table()
    print("## SR-TOD block alone (params in thousands, GFLOPs)\n")
    print(heads.to_markdown(index=False, floatfmt=".5g"))

    tables, raw = [], []
    for name, size, repeats, base, srtod in DETECTORS:
        if args.quick and size[0] > 256:
            continue
        t = time.perf_counter()
        tables.append(cost_table([(name, base, srtod)], size, repeats=repeats, warmup=1,
                                 threads=args.threads,
                                 options={"model.backbone.init_cfg": None}, raw=raw))
        print(f"\n{name} at {size[0]}x{size[1]}: {time.perf_counter() - t:.0f} s", flush=True)
    detectors = pd.concat(tables, ignore_index=True)
    print("\n## Detector vs detector w/ SR-TOD (params in millions, GFLOPs, CPU ms per image)\n")
    print(detectors.to_markdown(index=False, floatfmt=".5g"))

    env = dict(python=platform.python_version(), torch=torch.__version__,
               processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
               threads=args.threads, omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(
        flop_convention="1 multiply-add = 2 FLOPs; conv/linear/matmul only; transposed conv per "
                        "input pixel; elementwise_gflops separate (see srtod.complexity)",
        heads=heads.to_dict(orient="records"), detectors=detectors.to_dict(orient="records"),
        detector_runs=raw, env=env, seconds=time.perf_counter() - t0), indent=1))
    print(f"\nwritten: {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
