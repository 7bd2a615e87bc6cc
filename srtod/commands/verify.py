"""``python -m srtod verify [RUN] --epochs K``: re-train the first epochs of a published run and
compare its weights, epoch by epoch, with the fingerprints that the published run left
(``docs/results/<profile>/fingerprints.json``): bitwise equal, or the first epoch that differs.

The run trains exactly as the pipeline trained it (its config, seed and prepared data, under the
numeric contract) in a scratch work dir (``work_dirs/verify/<run>``), stopping after ``K`` epochs
of its schedule. ``make verify`` runs it for the baseline's first 2 epochs.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", nargs="?", default="faster_rcnn",
                        help="a published run, <experiment>[_s<seed>] (default: faster_rcnn)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs to re-train (default: 2)")
    parser.add_argument("--profile", default="default",
                        help="the published profile (default: default)")
    parser.add_argument("--published", help="the published folder: its fingerprints.json, else "
                        "the train summaries in its records/*.npz (default: "
                        "docs/results/<profile>)")


def published_fingerprints(folder) -> tuple[dict, str | None]:
    """``({run: {'epochs': {epoch: hash}, 'commit': ...}}, data fingerprint or None)`` of a
    published folder: its ``fingerprints.json`` (``make publish``), else the train summaries kept
    in its evaluation records (``records/<run>.npz``)."""
    import json
    from pathlib import Path

    folder = Path(folder)
    if (folder / "fingerprints.json").is_file():
        published = json.loads((folder / "fingerprints.json").read_text())
        return published["runs"], published.get("data")
    from ..stages.study import read_record

    runs = {}
    for path in sorted((folder / "records").glob("*.npz")):
        record = read_record(path)["record"]
        train = record.get("train") or {}
        sittings = train.get("provenance") or [{}]
        if train.get("fingerprints"):
            runs[record["run"]] = {"epochs": train["fingerprints"],
                                   "commit": (sittings[0].get("source") or {}).get("commit")}
    return runs, None


def run(args: argparse.Namespace) -> int:
    import json
    import logging
    import shutil
    import sys
    import time
    from pathlib import Path

    from ..engine.hooks import ProvenanceHook
    from ..engine.runner import train
    from ..paths import PREPARED, work_dir
    from ..provenance import tree_fingerprint
    from ..stages.params import experiment_config, load_params, resolve_experiment
    from ..stages.publish import DOCS_RESULTS

    logging.getLogger("mmengine").setLevel(logging.WARNING)
    folder = Path(args.published) if args.published else DOCS_RESULTS / args.profile
    runs, data = published_fingerprints(folder)
    if not runs:
        print(f"error: {folder}: no published fingerprints (fingerprints.json, or records with "
              "them; publish a run of this profile first)", file=sys.stderr)
        return 2
    if args.run not in runs:
        print(f"error: {folder}: no fingerprints of run {args.run!r} (it has "
              f"{', '.join(runs)})", file=sys.stderr)
        return 2
    epochs = runs[args.run]["epochs"]
    if str(args.epochs) not in epochs:
        print(f"error: {args.run}: no published fingerprint of epoch {args.epochs} (it has 1-"
              f"{max(map(int, epochs))})", file=sys.stderr)
        return 2
    params = load_params(profile=args.profile)
    start = time.perf_counter()
    if data is None or tree_fingerprint(PREPARED) != data:  # unknown or other data: prepare
        from ..stages.prepare import prepare_data

        print(f"preparing the {args.profile} profile's data in {PREPARED}")
        prepare_data(params)
        if data and tree_fingerprint(PREPARED) != data:
            print(f"DIFFERENT: the prepared data {tree_fingerprint(PREPARED)} differ from the "
                  f"published runs' {data} (the data generator computes otherwise here)")
            return 1
    exp = resolve_experiment(params, args.run)
    scratch = work_dir("verify") / args.run
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"re-training {args.run} ({exp.config}, seed {exp.seed}) for {args.epochs} epoch(s) "
          f"in {scratch}")
    train(experiment_config(exp), scratch, resume=False, stop_after_epochs=args.epochs)
    ours = json.loads((scratch / ProvenanceHook.FINGERPRINTS_FILE).read_text())
    seconds = time.perf_counter() - start
    trained_at = runs[args.run].get("commit") or "?"
    for epoch in range(1, args.epochs + 1):
        mine, theirs = ours.get(str(epoch)), epochs[str(epoch)]
        status = "equal" if mine == theirs else "DIFFERENT"
        print(f"epoch {epoch}: {mine} here, {theirs} published ({status})")
        if mine != theirs:
            print(f"DIFFERENT from epoch {epoch} on: this machine does not reproduce {args.run} "
                  f"(published from commit {trained_at[:10]}); `python -m srtod probe` names "
                  f"the first operation that differs ({seconds:.0f} s)")
            return 1
    print(f"EQUAL: {args.epochs} epoch(s) of {args.run} bit for bit as published (trained at "
          f"{trained_at[:10]}), {seconds:.0f} s")
    return 0
