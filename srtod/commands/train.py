"""``python -m srtod train CONFIG``: train a detector (the mmdet ``tools/train.py`` of srtod).

Multi-GPU: ``torchrun --nproc_per_node 8 -m srtod train CONFIG --launcher pytorch`` (or
``--launcher slurm`` under srun); mmengine sets up the distributed run (NCCL between GPUs, gloo on
CPUs). Training uses the GPU when there is one (``--device cpu`` hides it); ``--amp`` trains in
mixed precision.
"""

from __future__ import annotations

import argparse

from . import device_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument("config", help="config file, or a path relative to srtod/configs")
    parser.add_argument("--work-dir", help="checkpoints and logs (default: work_dirs/<config name>)")
    parser.add_argument("--dataset", help="switch the data set: synthetic, droneswarms, visdrone, "
                        "aitod, or coco (any COCO-format set; classes from its train json)")
    parser.add_argument("--data-root", help="folder with images/<split>/ and "
                        "annotations/<split>.json; checked by the validator before training, and "
                        "the classes follow its annotations/train.json")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side")
    parser.add_argument("--no-resume", action="store_true",
                        help="start over even if the work dir holds a run of the same config")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none")
    parser.add_argument("--amp", action="store_true",
                        help="mixed-precision training (AmpOptimWrapper, dynamic loss scale; GPU)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="cpu trains on the CPU even where a GPU is (default: auto, CUDA when "
                        "available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads; counts with SRTOD_NUMERICS=native only (the numeric "
                        "contract trains with 1 thread, for the same bits on every machine)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. model.srtod.dgfe.fusion=concat")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if device_of(args) is None:  # first: --device cpu hides the GPUs before CUDA starts
        return 2
    from ..config import load_config
    from ..engine.runner import enable_amp, prepare_work_dir, train
    from ..paths import WORK_DIRS
    from .errors import guarded

    cfg = None

    def configure() -> int:
        nonlocal cfg
        cfg = load_config(args.config, dataset=args.dataset, data_root=args.data_root,
                          image_size=args.image_size, options=args.cfg_options)
        cfg.launcher = args.launcher
        if args.amp:
            enable_amp(cfg)
        return 0

    if guarded(configure):
        return 2
    work_dir = Path(args.work_dir) if args.work_dir else WORK_DIRS / Path(cfg.filename).stem
    if args.data_root or args.dataset:
        prepare_work_dir(cfg, work_dir)  # kept by train(): the reports below stay
        if guarded(lambda: check_data(cfg, work_dir)):
            return 2
    result = train(cfg, work_dir, resume=not args.no_resume, threads=args.threads)
    print(f"checkpoint: {result.checkpoint}")
    if (cfg.model.get("srtod") or {}).get("dgfe"):
        flags = "".join(f" --{k.replace('_', '-')} {v}" for k, v in
                        (("dataset", args.dataset), ("data_root", args.data_root),
                         ("image_size", args.image_size)) if v)
        print("what DGFE's threshold switches on, and the t that fits this data (docs/threshold.md):"
              f"\n  python -m srtod threshold {args.config} {result.checkpoint}{flags}")
    return 0


def check_data(cfg, work_dir) -> int:
    """The validator (``srtod validate``, image headers only) on the training and validation
    annotations of ``cfg``, before anything trains. Data that would need fixing (a box outside
    its image, a missing image, a bad category) stops here with the problems listed; empty
    images and other kept items only print. Reports go to ``<work_dir>/data_validation/``."""
    import sys
    from pathlib import Path

    from ..data.cocoio import DataError
    from ..data.validate import validate_coco

    problems = []
    for key in ("train_dataloader", "val_dataloader"):
        dataset = cfg[key]["dataset"]
        root = Path(dataset.get("data_root") or "")
        ann = root / dataset["ann_file"]
        report = validate_coco(ann, root / dataset.get("data_prefix", {}).get("img", ""),
                               fix=False, decode=False, verbose=False,
                               report_json=Path(work_dir) / "data_validation" / f"{ann.stem}.json")
        if not report.ok:
            print(report.summary(max_lines=10), file=sys.stderr)
            problems.append(str(ann))
    if problems:
        raise DataError(f"{', '.join(problems)}: needs fixing before training (listed above); "
                        "`python -m srtod validate DATA_ROOT` writes fixed copies "
                        "(annotations/<split>.fixed.json) to use instead")
    return 0
