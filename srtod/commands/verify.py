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


def run(args: argparse.Namespace) -> int:
    import json
    import logging
    import shutil
    import sys
    import time

    from ..engine.hooks import ProvenanceHook
    from ..engine.runner import train
    from ..paths import PREPARED, ROOT, work_dir
    from ..provenance import tree_fingerprint
    from ..stages.params import experiment_config, load_params, resolve_experiment
    from ..stages.publish import DOCS_RESULTS

    logging.getLogger("mmengine").setLevel(logging.WARNING)
    published_file = DOCS_RESULTS / args.profile / "fingerprints.json"
    if not published_file.is_file():
        print(f"error: {published_file.relative_to(ROOT)}: no published fingerprints (publish a "
              "run of this profile first)", file=sys.stderr)
        return 2
    published = json.loads(published_file.read_text())
    runs = published["runs"]
    if args.run not in runs:
        print(f"error: {published_file.relative_to(ROOT)}: no run {args.run!r} (it has "
              f"{', '.join(runs)})", file=sys.stderr)
        return 2
    epochs = runs[args.run]["epochs"]
    if str(args.epochs) not in epochs:
        print(f"error: {args.run}: no published fingerprint of epoch {args.epochs} (it has 1-"
              f"{max(map(int, epochs))})", file=sys.stderr)
        return 2
    params = load_params(profile=args.profile)
    start = time.perf_counter()
    if tree_fingerprint(PREPARED) != published.get("data"):
        from ..stages.prepare import prepare_data

        print(f"preparing the {args.profile} profile's data in {PREPARED}")
        prepare_data(params)
        if tree_fingerprint(PREPARED) != published.get("data"):
            print(f"DIFFERENT: the prepared data {tree_fingerprint(PREPARED)} differ from the published "
                  f"runs' {published.get('data')} (the data generator computes otherwise here)")
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
