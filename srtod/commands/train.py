"""``python -m srtod train CONFIG``: train a detector (the mmdet ``tools/train.py`` of srtod).

Multi-GPU: ``torchrun --nproc_per_node 8 -m srtod train CONFIG --launcher pytorch`` (or
``--launcher slurm`` under srun); mmengine sets up the distributed run (NCCL between GPUs, gloo on
CPUs). Training uses the GPU when there is one (``--device cpu`` hides it); ``--amp`` trains in
mixed precision.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument("config", help="config file, or a path relative to srtod/configs")
    parser.add_argument("--work-dir", help="checkpoints and logs (default: work_dirs/<config name>)")
    parser.add_argument("--dataset", help="switch the data set: synthetic, droneswarms, visdrone, aitod")
    parser.add_argument("--data-root", help="folder with images/ and annotations/")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side")
    parser.add_argument("--no-resume", action="store_true",
                        help="start over even if the work dir holds a run of the same config")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none")
    parser.add_argument("--amp", action="store_true",
                        help="mixed-precision training (AmpOptimWrapper, dynamic loss scale; GPU)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="cpu trains on the CPU even where a GPU is (default: auto, CUDA when "
                        "available)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. model.srtod.dgfe.fusion=concat")


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    if args.device == "cpu":  # before anything initialises CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    from ..config import load_config
    from ..inference import resolve_device
    from ..paths import WORK_DIRS
    from ..train import enable_amp, train

    cfg = load_config(args.config, dataset=args.dataset, data_root=args.data_root,
                      image_size=args.image_size, options=args.cfg_options)
    cfg.launcher = args.launcher
    try:
        resolve_device(args.device)
        if args.amp:
            enable_amp(cfg)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    work_dir = Path(args.work_dir) if args.work_dir else WORK_DIRS / Path(cfg.filename).stem
    result = train(cfg, work_dir, resume=not args.no_resume)
    print(f"checkpoint: {result.checkpoint}")
    return 0
