"""``python -m srtod pipeline STAGE``: one stage of the DVC pipeline, as its notebook runs it.

``prepare``, ``train``, ``evaluate``, ``tables``, ``figures`` and ``detect`` are the stages of ``dvc.yaml`` for
the profile of ``params.yaml`` (or ``--profile``); ``publish`` copies the last results to
``docs/results/<profile>/``. ``train`` and ``evaluate`` take run names (default: every run of the
profile, seeds included) and run ``--workers`` one-thread jobs side by side (``train --executor
slurm``: one SLURM job per unfinished run instead, :func:`srtod.stages.train.train_on_slurm`);
``--device cpu`` trains on the CPU on a machine with a GPU too (mmengine takes the GPU otherwise).
``detect`` runs the profile's SR-TOD checkpoint (or ``--config``/``--checkpoint``) on large
frames (or ``--source``), whole frame against sliced.
"""

from __future__ import annotations

import argparse

from . import add_device_argument, device_of

STAGES = ("prepare", "train", "evaluate", "tables", "figures", "detect", "publish")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("runs", nargs="*", help="train/evaluate: runs (<experiment>[_s<seed>]); "
                        "default: every run of the profile")
    parser.add_argument("--profile", help="profile of params.yaml (default: its `profile` key)")
    parser.add_argument("--workers", type=int,
                        help="parallel one-thread jobs (default: the profile's, else the cores)")
    parser.add_argument("--executor", choices=("local", "slurm"),
                        help="train: where the runs train: `local` (--workers processes here) or "
                        "`slurm` (one SLURM job per unfinished run, a job array; resources from "
                        "params.yaml slurm:); default: params.yaml train_executor, else local")
    parser.add_argument("--no-wait", dest="wait", action="store_false",
                        help="train --executor slurm: submit and return; a later call collects "
                        "the finished runs and resubmits the failed or pre-empted ones")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="tables: bootstrap replicates of the image-level intervals")
    parser.add_argument("--config", help="detect: the config of --checkpoint")
    parser.add_argument("--checkpoint", help="detect: a checkpoint of your own (default: the "
                        "profile's SR-TOD run)")
    parser.add_argument("--source", help="detect: an image or a folder (default: generated "
                        "1920x1080 frames, scored)")
    add_device_argument(parser)


def run(args: argparse.Namespace) -> int:
    import logging
    import os

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.stage == "publish":
        from ..stages.publish import publish

        print(f"published to {publish()}")
        return 0
    from ..stages.params import load_params

    if args.stage == "train" and str(args.device).startswith("cuda:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = args.device.split(":", 1)[1]  # mmengine trains on 0
    device = device_of(args)  # --device cpu hides the GPUs (the spawned runs inherit it)
    if device is None:
        return 2

    params = load_params(profile=args.profile)
    runs = args.runs or None
    if args.stage == "prepare":
        from ..stages.prepare import prepare_data

        prepare_data(params)
    elif args.stage == "train" and (args.executor or params.get("train_executor")) == "slurm":
        from ..execution.slurm import SlurmError
        from ..stages.train import train_on_slurm

        try:
            summaries = train_on_slurm(params, runs, wait=args.wait)
        except SlurmError as err:
            print(f"error: {err}")
            return 1
        for name, s in summaries.items():
            print(f"{name}: " + (s.get("skipped") or s.get("checkpoint")
                                 or f"SLURM job {s.get('job_id')} {s.get('state')} (log: {s.get('log')})"))
    elif args.stage == "train":
        from ..stages.train import train_experiments

        for name, s in train_experiments(params, runs, workers=args.workers,
                                         executor="local").items():
            print(f"{name}: {s.get('skipped') or s.get('checkpoint')}")
    elif args.stage == "evaluate":
        from ..stages.evaluate import evaluate_experiments

        for name, r in evaluate_experiments(params, runs, workers=args.workers,
                                                     device=device).items():
            m = r.get("metrics") or {}
            print(f"{name}: " + (f"AP {m['AP']:.1f} APvt {m['APvt']:.1f}" if m
                                 else r.get("skipped", "")))
    elif args.stage == "tables":
        from ..paths import TABLES
        from ..stages.tables import write_tables

        write_tables(params, n_boot=args.bootstrap)
        print((TABLES / "compare.md").read_text())
    elif args.stage == "detect":
        from ..stages.detect import run_detect

        done = run_detect(params, config=args.config, checkpoint=args.checkpoint,
                          source=args.source, device=device)
        print(done["table"].to_string(index=False))
        print(done["figure"])
    else:
        from ..stages.figures import make_figures

        for path in make_figures(params, device=device):
            print(path)
    return 0
