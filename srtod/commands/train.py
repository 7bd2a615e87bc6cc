"""``python -m srtod train CONFIG``: train a detector (the mmdet ``tools/train.py`` of srtod).

Multi-GPU: ``torchrun --nproc_per_node 8 -m srtod train CONFIG --launcher pytorch`` (or
``--launcher slurm`` under srun); mmengine sets up the distributed run.
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
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. model.srtod.dgfe.fusion=concat")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..config import load_config
    from ..paths import WORK_DIRS
    from ..train import train

    cfg = load_config(args.config, dataset=args.dataset, data_root=args.data_root,
                      image_size=args.image_size, options=args.cfg_options)
    cfg.launcher = args.launcher
    work_dir = Path(args.work_dir) if args.work_dir else WORK_DIRS / Path(cfg.filename).stem
    result = train(cfg, work_dir, resume=not args.no_resume)
    print(f"checkpoint: {result.checkpoint}")
    return 0
