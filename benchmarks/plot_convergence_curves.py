"""Validation AP against iterations of the default's Faster R-CNN runs and their longer twins.

    python benchmarks/plot_convergence_curves.py results docs/results/convergence/val_ap_curves_27_40.png

Reads ``<results>/train/faster_rcnn*/val_curve.csv`` (the train stage's) and colours the runs by
method and schedule (``*_long``: the ``full`` profile's 1.5x-longer runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from srtod.stages.params import SEED_SUFFIX, load_params, max_epochs
from srtod.viz.plots import plot_val_curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    params = load_params(profile="default")
    epochs = {n: max_epochs(params, n) for n in ("faster_rcnn", "faster_rcnn_long")}
    labels = {"faster_rcnn": f"baseline {epochs['faster_rcnn']} ep",
              "faster_rcnn_srtod": f"SR-TOD {epochs['faster_rcnn']} ep",
              "faster_rcnn_long": f"baseline {epochs['faster_rcnn_long']} ep",
              "faster_rcnn_srtod_long": f"SR-TOD {epochs['faster_rcnn_long']} ep"}
    curves, groups = {}, {}
    for csv in sorted((args.results / "train").glob("faster_rcnn*/val_curve.csv")):
        run = csv.parent.name
        seeded = SEED_SUFFIX.match(run)
        experiment = seeded["base"] if seeded else run
        if experiment in labels:
            curves[run], groups[run] = pd.read_csv(csv), labels[experiment]
    plot_val_curves(curves, groups).savefig(args.out, dpi=90)
    print(f"{args.out}: {len(curves)} runs")


if __name__ == "__main__":
    main()
