"""What SR-TOD costs, per reconstruction head: the whole detector's time, FLOPs and parameters.

The baseline Faster R-CNN, SR-TOD with the paper's head, and SR-TOD with each cheap head of
``params.yaml`` (the experiments whose options set ``model.srtod.recon_head``: one source for the
variants the pipeline trains and this benchmark times). All models are built first and then timed
**interleaved** (run r of every model before run r+1 of any), on the same random image, so drift
of a shared machine hits all of them alike; the time is the median over runs, the ratio is to the
baseline's median. Weights are random (timing does not depend on them; nothing is downloaded).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_recon_heads.py --model paper --size 800 1344 \
        --repeats 5 --threads 2 --out results/cost/recon_heads_r50_cpu.json
    python benchmarks/bench_recon_heads.py --device cuda --repeats 50   # on a GPU
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see srtod.cost.detector_cost

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import yaml  # noqa: E402

from srtod.config import load_config  # noqa: E402
from srtod.cost import count_flops, fake_batch, num_params  # noqa: E402
from srtod.inference import build_model, resolve_device  # noqa: E402
from srtod.paths import ROOT  # noqa: E402

CONFIGS = {
    "paper": ("faster_rcnn/faster-rcnn_r50_fpn_20e_droneswarms.py",
              "faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py"),
    "slim": ("faster_rcnn/faster-rcnn_r18-slim_fpn_cpu_synthetic.py",
             "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_cpu_synthetic.py"),
}
HEAD_KEY = "model.srtod.recon_head"


def head_variants(params_file: Path = ROOT / "params.yaml") -> dict[str, dict]:
    """``{experiment: recon_head config}`` of the experiments that change the head."""
    experiments = yaml.safe_load(params_file.read_text())["experiments"]
    return {name: spec["options"][HEAD_KEY] for name, spec in experiments.items()
            if HEAD_KEY in (spec.get("options") or {})}


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
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = resolve_device(args.device)
    cuda = device.startswith("cuda")
    torch.set_num_threads(args.threads)
    base_cfg, srtod_cfg = CONFIGS[args.model]
    no_download = {"model.backbone.init_cfg": None}
    rows = {"baseline": (load_config(base_cfg, options=no_download), None),
            "srtod_paper_head": (load_config(srtod_cfg, options=no_download), None)}
    for name, head in head_variants().items():
        rows[name] = (load_config(srtod_cfg, options={**no_download, HEAD_KEY: head}), head)

    batch = fake_batch(tuple(args.size))
    models, stats = {}, {}
    for name, (cfg, head) in rows.items():
        torch.manual_seed(0)
        model = build_model(cfg, device=device)
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
        flops, _, _ = count_flops(model._forward, data["inputs"], data["data_samples"])
        stats[name] = dict(head=describe(head) if name != "baseline" else "none",
                           params_M=num_params(model) / 1e6, gflops=flops / 1e9, times_ms=[])
        models[name] = model
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    with torch.no_grad():
        for r in range(args.warmup + args.repeats):
            for name, model in models.items():
                sync()
                t0 = time.perf_counter()
                model.test_step(batch)
                sync()
                if r >= args.warmup:
                    stats[name]["times_ms"].append((time.perf_counter() - t0) * 1e3)
    base_ms = statistics.median(stats["baseline"]["times_ms"])
    where = torch.cuda.get_device_name() if cuda else f"CPU, {args.threads} threads"
    print(f"\n{args.model} Faster R-CNN at {args.size[0]} x {args.size[1]} on {where}, median of "
          f"{args.repeats} interleaved runs\n")
    print("| model | head | params (M) | GFLOPs | ms / image | time vs baseline |")
    print("|---|---|---|---|---|---|")
    for name, s in stats.items():
        s["time_ms"] = statistics.median(s["times_ms"])
        s["time_ratio"] = s["time_ms"] / base_ms
        print(f"| {name} | {s['head']} | {s['params_M']:.2f} | {s['gflops']:.1f} | "
              f"{s['time_ms']:.1f} | {s['time_ratio']:.3f} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(dict(model=args.model, size=list(args.size),
                                            device=where, repeats=args.repeats, rows=stats),
                                       indent=1) + "\n")
        print(f"\n{args.out}")


if __name__ == "__main__":
    main()
