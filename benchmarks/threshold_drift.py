"""How the difference map D drifts while SR-TOD trains: the threshold curve of one run's
checkpoints at several epochs, the recommended t of each, and what the paper's 40/255 switches on.

    python benchmarks/threshold_drift.py CONFIG OUT CKPT [CKPT ...] [--split val]

Each checkpoint gets ``python -m srtod threshold``'s outputs under ``OUT/epoch_<k>/``; ``OUT``
gets ``drift.md`` (one row per checkpoint) and ``drift.png`` (recommended t and coverage at
40/255 against the epoch).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("out", type=Path)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from srtod.config import load_config
    from srtod.threshold_choice import measure_threshold
    from srtod.viz import save
    from srtod.viz._common import new_figure, styled

    cfg = load_config(args.config)
    rows = []
    for ckpt in args.checkpoints:
        epoch = int(re.search(r"epoch_(\d+)", ckpt.name)[1])
        s = measure_threshold(cfg, ckpt, args.out / f"epoch_{epoch}", split=args.split,
                              device=args.device)
        best, paper = s["recommended"], s["at"]["paper DroneSwarms (40/255)"]
        rows.append({"epoch": epoch, "recommended t x 255": best["t255"],
                     "quantile q": best["quantile"],
                     "at t*: background on %": 100 * best["background_on"],
                     "at t*: very tiny touched %": 100 * best["touched_vt"],
                     "at 40/255: background on %": 100 * paper["background_on"],
                     "at 40/255: very tiny touched %": 100 * paper["touched_vt"],
                     "at 40/255: very tiny covered %": 100 * paper["covered_vt"],
                     "median very tiny peak D x 255": 255 * s["distribution"]["peak_vt"]["0.5"],
                     "background D 90th percentile x 255":
                         255 * s["distribution"]["background"]["0.9"]})
    df = pd.DataFrame(rows).sort_values("epoch")
    cols = list(df.columns)
    lines = [f"### D while SR-TOD trains ({args.split} split; config {args.config})", "",
             "| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{int(r[c])}" if c == "epoch" else
                                       f"{r[c]:.4f}" if c == "quantile q" else f"{r[c]:.2f}"
                                       for c in cols) + " |")
    (args.out / "drift.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    with styled():
        fig = new_figure((11, 4))
        left, right = fig.subplots(1, 2)
    left.plot(df["epoch"], df["recommended t x 255"], "o-", label="recommended t")
    left.plot(df["epoch"], df["median very tiny peak D x 255"], "s--",
              label="median peak D of a very tiny box")
    left.plot(df["epoch"], df["background D 90th percentile x 255"], "^:",
              label="90th percentile of the background's D")
    left.axhline(40, color="0.4", ls=":", label="paper's t = 40/255")
    left.set_xlabel("epoch")
    left.set_ylabel("x 255")
    left.legend(fontsize=8)
    left.set_title("recommended t and D during training")
    right.plot(df["epoch"], df["at 40/255: very tiny touched %"], "o-",
               label="very tiny boxes touched at 40/255")
    right.plot(df["epoch"], df["at 40/255: background on %"], "s-",
               label="background on at 40/255")
    right.set_xlabel("epoch")
    right.set_ylabel("%")
    right.legend(fontsize=8)
    right.set_title("what the fixed 40/255 switches on")
    save(fig, args.out / "drift.png")


if __name__ == "__main__":
    main()
