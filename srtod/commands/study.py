"""``python -m srtod study {record,tables}``: the threshold study, accumulated over sittings.

``record [RUN ...]`` writes the evaluation record of each finished run (default: every run of the
``study`` profile evaluated under results/) to ``docs/results/threshold_study/records/<run>.npz``,
to be committed. ``tables`` records the local runs, then rebuilds the study's tables from every
committed record and each published source's frozen metrics (``srtod.stages.study.SOURCES``):
``study.md``, a CSV per table (rows, compare, pooled, coverage, detection_changes, run_machines),
``paired_differences.png`` and ``detection_changes.png`` in ``docs/results/threshold_study/``.
Train and evaluate runs with ``python -m srtod pipeline {train,evaluate} --profile study RUN ...``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["record", "tables"])
    parser.add_argument("runs", nargs="*", help="record: runs (default: every evaluated run of "
                        "the study profile)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="tables: bootstrap replicates of the image-level intervals")
    parser.add_argument("--out", help="tables: output folder (default: docs/results/"
                        "threshold_study)")


def record_runs(runs: list[str]) -> list[str]:
    from ..paths import RESULTS, run_dir
    from ..stages.params import load_params, profile_runs
    from ..stages.study import write_record

    names = runs or [r for r in profile_runs(load_params(profile="study")["active"])
                     if (run_dir("eval", r, RESULTS) / "detections.json").is_file()]
    return [str(write_record(r)) for r in names]


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..paths import study_records
    from ..stages.study import build_study
    from .errors import guarded

    done: list[str] = []
    if guarded(lambda: done.extend(record_runs(args.runs)) or 0):
        return 2
    for path in done:
        print(f"recorded {path}")
    if args.action == "record":
        return 0
    out = Path(args.out) if args.out else study_records().parent
    study = build_study(out, n_boot=args.bootstrap)
    print(study["markdown"])
    print(f"{len(study['runs'])} recorded runs; tables written to {out}")
    return 0
