"""GPU check of the paper path: train, predict and time the paper Faster R-CNN w/ SR-TOD on a GPU.

On generated 1920 x 1080 frames (the DroneSwarms frame size), with random weights (no ImageNet
download: :func:`srtod.config.random_init`, DetectoRS' second backbone too): trains ``--iters``
iterations in fp32 and ``--amp-iters`` with ``--amp`` through :func:`srtod.engine.runner.train` (the
``python -m srtod train`` path), predicts the test split with the trained checkpoint and evaluates
it (AI-TOD protocol; the AP of so short a run means nothing, the check is that the path works), and
times inference of the same detector without and with SR-TOD
(:func:`srtod.complexity.interleaved_costs`, CUDA-synchronised, median of ``--repeats``).
Prints a table and writes it as JSON. ``scripts/gpu_check.sh`` sets up the environment and runs it:

    python benchmarks/gpu_check.py --out results/gpu_check.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import torch

CONFIG = "faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py"
FRAME_HW = (1080, 1920)
WARMUP_ITERS = 10  # iterations excluded from it/s (CUDA context, cuDNN autotuning, allocator)


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class IterTimer:
    """Wall time and loss after each training iteration (CUDA-synchronised), and the peak GPU
    memory.

    mmengine's log processor resets CUDA's peak-memory counter at every log line, so the peak is
    read after every iteration, before the logger (the hook runs with priority VERY_HIGH)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.losses: list[float] = []
        self.last: dict[str, float] = {}  # the last iteration's logged values (srtod_t, srtod_on)
        self.peak_bytes = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        sync()
        self.stamps.append(time.perf_counter())
        if outputs and "loss" in outputs:
            self.losses.append(float(outputs["loss"]))
            self.last = {k: float(v) for k, v in outputs.items()}
        if torch.cuda.is_available():
            self.peak_bytes = max(self.peak_bytes, torch.cuda.max_memory_allocated())

    def its(self, skip: int = WARMUP_ITERS) -> float:
        if len(self.stamps) <= skip + 1:
            raise RuntimeError(f"{len(self.stamps)} iterations timed, need more than {skip + 1}")
        return (len(self.stamps) - 1 - skip) / (self.stamps[-1] - self.stamps[skip])


def register_timer() -> IterTimer:
    """Register a hook type that hands its instance back (the Runner builds hooks from configs).

    It also sets weight standardisation from the random weights before training
    (:func:`srtod.inference.init_weight_standardization`; without it DetectoRS' losses are NaN)."""
    from mmdet.registry import HOOKS
    from mmengine.hooks import Hook

    timer = IterTimer()

    class GpuCheckTimer(Hook):
        priority = "VERY_HIGH"

        def before_train(self, runner) -> None:  # random weights: as a loaded checkpoint would
            from srtod.inference import init_weight_standardization

            init_weight_standardization(runner.model)

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            timer.after_train_iter(runner, batch_idx, data_batch, outputs)

    HOOKS.register_module(name="GpuCheckTimer", module=GpuCheckTimer, force=True)
    return timer


def train_run(config: str, data: Path, work_dir: Path, iters: int, batch: int, workers: int,
              train_images: int, amp: bool, options: dict | None = None) -> dict:
    """Train ``iters`` iterations (whole epochs of ``train_images``); it/s and peak memory.
    ``options``: further dotted-key overrides of the config."""
    from srtod.config import load_config, random_init
    from srtod.engine.runner import enable_amp, train

    epochs = max(1, math.ceil(iters * batch / train_images))
    cfg = random_init(load_config(config, data_root=data, options={
        "train_dataloader.batch_size": batch, "train_dataloader.num_workers": workers,
        "train_dataloader.persistent_workers": workers > 0,
        "train_cfg.max_epochs": epochs, "train_cfg.val_interval": epochs + 1,
        "default_hooks.checkpoint.interval": epochs, **(options or {})}))
    if amp:
        enable_amp(cfg)
    timer = register_timer()
    cfg.custom_hooks = [*cfg.get("custom_hooks", []), dict(type="GpuCheckTimer")]
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = train(cfg, work_dir, resume=False, progress=False)
    its = timer.its() if len(timer.stamps) > WARMUP_ITERS + 1 else None  # None: a short rehearsal
    return dict(amp=amp, iterations=len(timer.stamps), batch_size=batch, epochs=epochs,
                its=its and round(its, 2), images_per_s=its and round(its * batch, 1),
                seconds=round(time.perf_counter() - start, 1),
                loss_first=round(timer.losses[0], 4) if timer.losses else None,
                loss_last=round(timer.losses[-1], 4) if timer.losses else None,
                losses_finite=bool(timer.losses) and all(map(math.isfinite, timer.losses)),
                peak_mem_gb=round(timer.peak_bytes / 2**30, 2) if timer.peak_bytes else None,
                srtod_t=timer.last.get("srtod_t"), srtod_on=timer.last.get("srtod_on"),
                input_hw=_input_hw(cfg), checkpoint=str(result.checkpoint))


def _input_hw(cfg) -> list[int]:
    """The Resize scale of the test pipeline (W, H as mmdet writes it) as [H, W]."""
    for step in cfg.test_dataloader.dataset.pipeline:
        if step["type"] == "Resize":
            w, h = step["scale"]
            return [h, w]
    return list(FRAME_HW)


def predict_run(config: str, data: Path, checkpoint: str, out: Path, device: str) -> dict:
    from srtod.config import load_config, random_init
    from srtod.evaluation import evaluate_coco
    from srtod.inference import predict_split

    cfg = random_init(load_config(config, data_root=data))
    start = time.perf_counter()
    dets = predict_split(cfg, checkpoint, out, "test", device=device, progress=False)
    seconds = time.perf_counter() - start
    metrics = evaluate_coco(data / "annotations" / "test.json", dets)["metrics"]
    images = len(json.loads((data / "annotations" / "test.json").read_text())["images"])
    return dict(images=images, seconds_per_image=round(seconds / images, 4),
                detections=len(json.loads(Path(dets).read_text())),
                AP=round(metrics["AP"], 2), APvt=round(metrics["APvt"], 2))


def add_run_arguments(parser: argparse.ArgumentParser, iters: int, amp_iters: int,
                      train_images: int, test_images: int) -> None:
    """The arguments of a GPU check's training runs and data (also gpu_threshold_check.py's)."""
    parser.add_argument("--data", type=Path, default=Path("work_dirs/gpu_check/data"))
    parser.add_argument("--iters", type=int, default=iters)
    parser.add_argument("--amp-iters", type=int, default=amp_iters)
    parser.add_argument("--batch", type=int, default=2, help="paper: 2")
    parser.add_argument("--train-images", type=int, default=train_images)
    parser.add_argument("--test-images", type=int, default=test_images)
    parser.add_argument("--workers", type=int, default=8, help="dataloader processes")
    parser.add_argument("--device", default="cuda", help="cpu: rehearse the check on a CPU "
                        "(small --iters; no AMP)")


def select_device(args: argparse.Namespace) -> None:
    """Stop without a GPU for ``--device cuda``; for ``--device cpu`` hide the GPUs (training
    follows the device too) and train no AMP iterations."""
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: no CUDA GPU visible to torch: this check needs one "
                         "(--device cpu rehearses it)")
    if args.device == "cpu":
        import os

        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        args.amp_iters = 0


def generate_frames(data: Path, train_images: int, test_images: int) -> None:
    """Generated 1920 x 1080 frames in ``data`` unless it holds a data set already."""
    from srtod.data.synthetic import generate_dataset

    if (data / "annotations" / "test.json").is_file():
        return
    summary = generate_dataset(data, num_images={"train": train_images, "val": 2,
                                                 "test": test_images},
                               image_size=FRAME_HW, seed=0, progress=False)
    print(f"generated {train_images + 2 + test_images} frames of {FRAME_HW[1]}x{FRAME_HW[0]} "
          f"in {summary['seconds']:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=CONFIG, help="SR-TOD config (its baseline: without "
                        "the srtod_ prefix)")
    add_run_arguments(parser, iters=50, amp_iters=30, train_images=20, test_images=10)
    parser.add_argument("--repeats", type=int, default=20, help="timed inference runs (median)")
    parser.add_argument("--out", type=Path, default=Path("results/gpu_check.json"))
    args = parser.parse_args()
    select_device(args)

    import mmcv
    from mmcv.ops import nms

    from srtod.complexity import interleaved_costs, pair_configs

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0]], device=args.device)
    assert nms(boxes, torch.tensor([0.9, 0.8], device=args.device), 0.5)[1].tolist() == [0]
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU ({platform.machine()})"
    report: dict = dict(gpu=gpu, torch=torch.__version__,
                        cuda=torch.version.cuda, mmcv=mmcv.__version__,
                        python=platform.python_version(), config=args.config)
    print(f"{report['gpu']}: torch {report['torch']} (CUDA {report['cuda']}), mmcv "
          f"{report['mmcv']} ops ok on {args.device}", flush=True)

    generate_frames(args.data, args.train_images, args.test_images)
    work = args.out.parent / "gpu_check_work"
    kw = dict(data=args.data, batch=args.batch, workers=args.workers,
              train_images=args.train_images)
    report["train"] = train_run(args.config, work_dir=work / "fp32", iters=args.iters,
                                amp=False, **kw)
    print(f"train fp32: {report['train']}", flush=True)
    if args.amp_iters:
        report["train_amp"] = train_run(args.config, work_dir=work / "amp",
                                        iters=args.amp_iters, amp=True, **kw)
        print(f"train AMP: {report['train_amp']}", flush=True)
    report["predict"] = predict_run(args.config, args.data, report["train"]["checkpoint"],
                                    work / "detections.json", args.device)
    print(f"predict: {report['predict']}", flush=True)

    (_, base_cfg, srtod_cfg), = pair_configs([args.config])
    hw = tuple(report["train"]["input_hw"])
    costs = interleaved_costs({"baseline": base_cfg, "srtod": srtod_cfg}, hw, repeats=args.repeats,
                              warmup=min(5, args.repeats), device=args.device)
    report["inference"] = {name: dict(ms_per_image=round(c["time_ms"], 2),
                                      peak_mem_gb=(round(c["peak_mem_mb"] / 1024, 2)
                                                   if c["peak_mem_mb"] else None),
                                      gflops=round(c["gflops"], 1),
                                      params_M=round(c["params"] / 1e6, 2))
                           for name, c in costs.items()}
    inf = report["inference"]
    sr = costs["srtod"]  # interleaved runs: the median of the paired ratios and its 95% interval
    inf["time_ratio"] = round(sr["time_ratio"], 3)
    inf["time_ratio_ci"] = [round(sr["time_ratio_low"], 3), round(sr["time_ratio_high"], 3)]
    print(f"inference at {hw[1]}x{hw[0]}: {inf}", flush=True)

    t, a, p = report["train"], report.get("train_amp"), report["predict"]
    rows = [
        (f"training fp32, it/s (batch {t['batch_size']})", t["its"]),
        ("training fp32, peak GPU memory (GB)", t["peak_mem_gb"]),
        ("training fp32, loss first -> last iteration", f"{t['loss_first']} -> {t['loss_last']}"),
        *([("training AMP, it/s", a["its"]), ("training AMP, peak GPU memory (GB)",
                                               a["peak_mem_gb"])] if a else []),
        ("predict (test split, whole path), s/image", p["seconds_per_image"]),
        ("inference baseline, ms/image", inf["baseline"]["ms_per_image"]),
        ("inference SR-TOD, ms/image", inf["srtod"]["ms_per_image"]),
        ("SR-TOD / baseline time", inf["time_ratio"]),
    ]
    print(f"\n| {report['gpu']}, input {hw[1]}x{hw[0]} | value |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nreport: {args.out}")
    bad = [k for k in ("train", "train_amp") if k in report and not report[k]["losses_finite"]]
    if bad:
        raise SystemExit(f"error: the training loss is not finite ({', '.join(bad)}): the path "
                         "ran but did not train")


if __name__ == "__main__":
    main()
