"""``python -m srtod train CONFIG``: train a detector (the mmdet ``tools/train.py`` of srtod).

Multi-GPU: ``torchrun --nproc_per_node 8 -m srtod train CONFIG --launcher pytorch`` (or
``--launcher slurm`` under srun); mmengine sets up the distributed run (NCCL between GPUs, gloo on
CPUs). Training uses the GPU when there is one (``--device cpu`` hides it); ``--amp`` trains in
mixed precision.
"""

from __future__ import annotations

import argparse
import sys

from . import add_dataset_argument, device_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    parser.add_argument("config", help="config file, or a path relative to srtod/configs")
    parser.add_argument("--work-dir", help="checkpoints and logs (default: work_dirs/<config "
                        "name> in the current folder)")
    add_dataset_argument(parser)
    parser.add_argument("--data-root", help="folder with images/<split>/ and "
                        "annotations/<split>.json; checked by the validator before training, and "
                        "the classes follow its annotations/train.json")
    parser.add_argument("--image-size", type=int, help="resize images to this (longer) side "
                        "(default with --data-root: the data's own, up to 1333, when larger than "
                        "the config's)")
    parser.add_argument("--fix-data", action="store_true",
                        help="with --data-root: train on the validator's fixed copies of the "
                        "annotations (WORK_DIR/data_validation/<split>.fixed.json; the data "
                        "folder stays as it is)")
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
    from ..config import fit_input_to_data, load_config
    from ..data.preflight import use_fixed_annotations
    from ..engine.runner import enable_amp, prepare_work_dir, train
    from .errors import guarded

    cfg = None

    def configure() -> int:
        nonlocal cfg
        data_root = Path(args.data_root).absolute() if args.data_root else None
        cfg = load_config(args.config, dataset=args.dataset, data_root=data_root,
                          image_size=args.image_size, options=args.cfg_options)
        if data_root is not None:  # the data's own scale, unless --image-size says otherwise
            line = fit_input_to_data(cfg, args.image_size)
            if line:
                print(line)
        cfg.launcher = args.launcher
        if args.amp:
            enable_amp(cfg)
        return 0

    if guarded(configure):
        return 2
    work_dir = Path(args.work_dir) if args.work_dir else default_work_dir(cfg)
    if args.fix_data and not (args.data_root or args.dataset):
        print("error: --fix-data fixes the annotations of --data-root DIR (or --dataset)",
              file=sys.stderr)
        return 2
    if args.data_root or args.dataset:
        fixes = use_fixed_annotations(cfg, work_dir) if args.fix_data else None
        prepare_work_dir(cfg, work_dir)  # kept by train(): the reports below stay
        if guarded(lambda: check_data(cfg, work_dir, fixes)):
            return 2
    result = train(cfg, work_dir, resume=not args.no_resume, threads=args.threads)
    ckpt = _shown(result.checkpoint)
    print(f"checkpoint: {ckpt} (it carries its config, classes and input size)\n"
          f"  detect:  python -m srtod predict {ckpt} SOURCE --out-dir out\n"
          f"  export:  python -m srtod export {ckpt} --out {_shown(work_dir / 'export')}")
    if (cfg.model.get("srtod") or {}).get("dgfe"):
        print("what DGFE's threshold switches on, and the t that fits this data (docs/threshold.md):"
              f"\n  python -m srtod threshold {ckpt}")
    return 0


def _shown(path) -> str:
    """``path`` relative to the current folder when inside it (for a command to copy)."""
    import os
    from pathlib import Path

    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)


def default_work_dir(cfg):
    """``work_dirs/<config name>`` in the current folder, as mmdet's ``tools/train.py``; in the
    workspace when ``SRTOD_WORKSPACE`` names one (the tests, a moved pipeline)."""
    import os
    from pathlib import Path

    from ..paths import WORK_DIRS

    base = WORK_DIRS if os.environ.get("SRTOD_WORKSPACE") else Path("work_dirs")
    return base / Path(cfg.filename).stem


def check_data(cfg, work_dir, fixes: dict | None = None) -> int:
    """The validator on the training and validation annotations of ``cfg`` before anything trains
    (:func:`srtod.data.preflight.training_data_problems`): data that would need fixing stops here
    with the problems listed. Reports go to ``<work_dir>/data_validation/``. ``fixes``
    (``train --fix-data``): write those fixed copies instead, say what was fixed, and go on."""
    import sys
    from pathlib import Path

    from ..data.cocoio import DataError
    from ..data.preflight import training_data_problems, write_fixed_annotations

    reports = Path(work_dir) / "data_validation"
    if fixes:
        for ann, changed, fixed in write_fixed_annotations(fixes, reports):
            print(f"{ann}: {changed} fixes -> {_shown(fixed)}" if changed else
                  f"{ann}: nothing to fix")
        return 0
    problems = training_data_problems(cfg, reports)
    for _, report in problems:
        print(report.summary(max_lines=10), file=sys.stderr)
    if problems:
        raise DataError(f"{', '.join(str(ann) for ann, _ in problems)}: needs fixing before "
                        "training (listed above); add --fix-data to train on the validator's "
                        f"fixed copies (written to {_shown(reports)}/, your data folder stays as "
                        "it is), or see them first with `python -m srtod validate DATA_ROOT`")
    return 0
