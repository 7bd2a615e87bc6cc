"""Training speed of Faster R-CNN without and with SR-TOD, as the pipeline runs them, per
backbone: the slim ResNet-18 trained from scratch (the default) and the ImageNet MobileNetV2.

For each backbone the pair trains side by side, one thread each (how ``train_experiments`` uses 2 cores), on the
synthetic set generated at each image size; reported: iterations per second after a warm-up, for
the batch size given, with the convolutions in channels-last order (what training uses on the
CPU, srtod.engine.to_channels_last) and, with ``--both-formats``, also in NCHW. Usage:

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_train_speed.py --sizes 160 --batch 4 --both-formats
    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_train_speed.py --sizes 128 \
        --backbones slim mobilenetv2 --out docs/results/imagenet/train_speed.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

#: per backbone, the (baseline, SR-TOD) configs timed
BACKBONES = {
    "slim": {"baseline": "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
             "SR-TOD": "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"},
    "mobilenetv2": {"baseline": "faster_rcnn/faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py",
                    "SR-TOD": "faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py"},
}


def _speed(config: str, data_root: str, size: int, batch: int, iters: int, warmup: int,
           channels_last: bool = True) -> float:
    import torch

    torch.set_num_threads(1)
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from srtod.config import load_config
    from srtod.inference import build_model

    cfg = load_config(config, dataset="synthetic", data_root=data_root, image_size=size,
                      options={"train_dataloader.batch_size": batch})
    init_default_scope("mmdet")
    model = build_model(cfg, device="cpu")  # channels-last convolutions on the CPU
    if not channels_last:
        model.to(memory_format=torch.contiguous_format)
        for p in model.parameters():
            p.data = p.data.contiguous()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    done, start = 0, None
    while done < warmup + iters:
        for data in loader:
            if done == warmup:
                start = time.perf_counter()
            model.train_step(data, optim)
            done += 1
            if done >= warmup + iters:
                break
    return iters / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 192])
    parser.add_argument("--batch", type=int, nargs="+", default=[4])
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--both-formats", action="store_true",
                        help="also measure with NCHW convolutions (before channels-last)")
    parser.add_argument("--backbones", nargs="+", choices=sorted(BACKBONES), default=["slim"],
                        help="the pairs timed, one after the other in this run")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    from srtod.data.synthetic import generate_dataset

    results = []
    ctx = mp.get_context("spawn")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as root:
            n = max(args.batch) * (args.iters + args.warmup)
            generate_dataset(root, num_images={"train": n, "val": 1, "test": 1}, image_size=size)
            for batch, channels_last, backbone in itertools.product(
                    args.batch, (True, False) if args.both_formats else (True,), args.backbones):
                configs = BACKBONES[backbone]
                with ctx.Pool(len(configs)) as pool:
                    speeds = pool.starmap(_speed, [
                        (c, root, size, batch, args.iters, args.warmup, channels_last)
                        for c in configs.values()])
                row = {"backbone": backbone, "image_size": size, "batch": batch,
                       "format": "channels_last" if channels_last else "nchw",
                       **{f"{k} it/s": round(v, 2) for k, v in zip(configs, speeds, strict=True)}}
                row["SR-TOD / baseline time"] = round(speeds[0] / speeds[1], 2)
                row.update({f"{k} s/step": round(1 / v, 3)
                            for k, v in zip(configs, speeds, strict=True)})
                row.update({f"{k} images/s": round(v * batch, 1)
                            for k, v in zip(configs, speeds, strict=True)})
                results.append(row)
                print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
