"""``python -m srtod study {record,tables}``: a study accumulated over sittings, from its records.

``--design`` picks the study (``srtod.stages.study.DESIGNS``): ``threshold``, the threshold study
on the default's setting (profile ``study``, ``docs/results/threshold_study/``), or
``imagenet-128`` and ``imagenet-256``, the ImageNet start's rows at 128 and 256 px (profile
``imagenet``, ``docs/results/imagenet/``, tables in ``rows_<size>px/``).
``record [RUN ...]`` writes the evaluation record of each finished run (default: every run of the
design's profile evaluated under results/) to ``<folder>/records/<run>.npz``, to be committed.
``tables`` records the local runs, then rebuilds the study's tables from every committed record
and each published source's frozen metrics: ``study.md``, a CSV per table (rows, compare, pooled,
coverage, detection_changes, run_machines), ``paired_differences.png`` and
``detection_changes.png`` in the design's folder. Train and evaluate runs with
``python -m srtod pipeline {train,evaluate} --profile PROFILE RUN ...``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..stages.study import DESIGNS

    parser.add_argument("action", choices=["record", "tables"])
    parser.add_argument("runs", nargs="*", help="record: runs (default: every evaluated run of "
                        "the design's profile)")
    parser.add_argument("--design", choices=sorted(DESIGNS), default="threshold",
                        help="which study: " + "; ".join(
                            f"{k}: {d.title} (profile {d.profile})" for k, d in DESIGNS.items())
                        + " (default: threshold)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="tables: bootstrap replicates of the image-level intervals")
    parser.add_argument("--out", help="tables: output folder (default: the design's, "
                        "docs/results/threshold_study or docs/results/imagenet/rows_<size>px)")


def record_runs(runs: list[str], design) -> list[str]:
    from ..paths import RESULTS, run_dir
    from ..stages.params import load_params, profile_runs
    from ..stages.study import write_record

    names = runs or [r for r in profile_runs(load_params(profile=design.profile)["active"])
                     if (run_dir("eval", r, RESULTS) / "detections.json").is_file()]
    return [str(write_record(r, out=design.records)) for r in names]


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..stages.study import DESIGNS, build_study
    from .errors import guarded

    design = DESIGNS[args.design]
    done: list[str] = []
    if guarded(lambda: done.extend(record_runs(args.runs, design)) or 0):
        return 2
    for path in done:
        print(f"recorded {path}")
    if args.action == "record":
        return 0
    out = Path(args.out) if args.out else design.tables
    study = build_study(out, design, n_boot=args.bootstrap)
    print(study["markdown"])
    print(f"{len(study['runs'])} recorded runs; tables written to {out}")
    return 0
