"""What SR-TOD costs, per reconstruction head: the whole detector's time, FLOPs and parameters.

The baseline Faster R-CNN, SR-TOD with the paper's head, and SR-TOD with each cheap head of
``params.yaml`` (the experiments whose options set ``model.srtod.recon_head``: one source for the
variants the pipeline trains and this benchmark times). All models are built first and then timed
**interleaved** (run r of every model before run r+1 of any), on the same random image, so drift
of a shared machine hits all of them alike; the time is the median over runs, the ratio is to the
baseline's median. The paired ratio is the median of the per-run ratios (run r of a model over run
r of the baseline), with its 95% interval from order statistics (>= 6 repeats). Weights are random
(timing does not depend on them; nothing is downloaded).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_recon_heads.py --model paper --size 800 1344 \
        --repeats 15 --threads 2 --heads rh_lite_half rh_lite_quarter \
        --out results/cost/recon_heads_r50_cpu.json
    python benchmarks/bench_recon_heads.py --device cuda --repeats 50   # on a GPU
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see srtod.complexity.interleaved_costs

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import yaml  # noqa: E402

from srtod.complexity import interleaved_costs  # noqa: E402
from srtod.config import load_config  # noqa: E402
from srtod.inference import resolve_device  # noqa: E402
from srtod.paths import ROOT  # noqa: E402
from srtod.stages.cost import HEAD_KEY, head_variants  # noqa: E402

CONFIGS = {
    "paper": ("faster_rcnn/faster-rcnn_r50_fpn_20e_droneswarms.py",
              "faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py"),
    "slim": ("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
             "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"),
}

def describe(head: dict | None) -> str:
    if head is None:
        return "paper head (Eq. 1-2)"
    return ", ".join(f"{k}={v}" for k, v in head.items() if k != "type") or "lite defaults"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), default="paper")
    parser.add_argument("--size", type=int, nargs=2, default=(800, 1344), metavar=("H", "W"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--device", default=None, help="default: CUDA when available")
    parser.add_argument("--heads", nargs="+", metavar="EXPERIMENT",
                        help="only these head variants of params.yaml (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = resolve_device(args.device)
    base_cfg, srtod_cfg = CONFIGS[args.model]
    heads = {"baseline": "none", "srtod_paper_head": describe(None)}
    cfgs = {"baseline": load_config(base_cfg), "srtod_paper_head": load_config(srtod_cfg)}
    experiments = yaml.safe_load((ROOT / "params.yaml").read_text())["experiments"]
    variants = head_variants(experiments)
    unknown = set(args.heads or ()) - set(variants)
    if unknown:
        parser.error(f"--heads: not head variants of params.yaml: {sorted(unknown)} "
                     f"(choose from {sorted(variants)})")
    for name, head in variants.items():
        if args.heads and name not in args.heads:
            continue
        cfgs[name] = load_config(srtod_cfg, options={HEAD_KEY: head})
        heads[name] = describe(head)
    stats = interleaved_costs(cfgs, tuple(args.size), repeats=args.repeats, warmup=args.warmup,
                              threads=args.threads, device=device)
    where = torch.cuda.get_device_name() if device.startswith("cuda") else \
        f"CPU, {args.threads} threads"
    print(f"\n{args.model} Faster R-CNN at {args.size[0]} x {args.size[1]} on {where}, median of "
          f"{args.repeats} interleaved runs; paired: the median of the per-run ratios to the "
          f"baseline and its 95% interval (order statistics)\n")
    print("| model | head | params (M) | GFLOPs | ms / image | paired ratio | 95% interval |")
    print("|---|---|---|---|---|---|---|")
    for name, s in stats.items():
        s["head"] = heads[name]
        print(f"| {name} | {s['head']} | {s['params'] / 1e6:.2f} | {s['gflops']:.1f} | "
              f"{s['time_ms']:.1f} | {s['time_ratio']:.3f} | "
              f"[{s['time_ratio_low']:.3f}, {s['time_ratio_high']:.3f}] |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(dict(model=args.model, size=list(args.size),
                                            device=where, repeats=args.repeats, rows=stats),
                                       indent=1) + "\n")
        print(f"\n{args.out}")


if __name__ == "__main__":
    main()
