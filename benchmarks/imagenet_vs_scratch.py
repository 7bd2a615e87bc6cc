"""Does an ImageNet start change the verdict? The ImageNet start's rows (docs/results/imagenet/rows_128px,
``python -m srtod study tables --design imagenet-128``) beside the same rows trained from scratch:
the threshold study's own runs (docs/results/threshold_study) and the published default
(docs/results/default, SR-TOD at 40/255 only). Each row minus its baseline, paired by seed, with
the seed-level and the image-level 95% intervals, read from the committed ``compare.csv`` files.

    python benchmarks/imagenet_vs_scratch.py --out docs/results/imagenet/vs_scratch.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
#: (row, label in the ImageNet study, label in the threshold study)
ROWS = (("RH only (no DGFE)", "RH only", "RH only (Tab. 4's middle row)"),
        ("SR-TOD, t = 40/255 learnable", "SR-TOD t = 40/255 (this benchmark)",
         "SR-TOD t = 40/255 (this study)"),
        ("SR-TOD, t measured, fixed", "SR-TOD, t measured, fixed", "SR-TOD, t measured, fixed"))
METRICS = ("AP", "APvt")


def _cell(r: pd.Series | None) -> str:
    if r is None:
        return "-"
    seed = "-" if pd.isna(r["t low"]) else f"[{r['t low']:+.1f}, {r['t high']:+.1f}]"
    image = ("-" if pd.isna(r["bootstrap low"])
             else f"[{r['bootstrap low']:+.1f}, {r['bootstrap high']:+.1f}]")
    return f"{r['difference']:+.1f} {seed} {image} ({r['seeds']} seeds)"


def _find(compare: pd.DataFrame, row: str, reference: str, metric: str) -> pd.Series | None:
    hit = compare[(compare["row"] == row) & (compare["reference"] == reference)
                  & (compare["metric"] == metric)]
    return None if hit.empty else hit.iloc[0]


def table(imagenet: pd.DataFrame, scratch: pd.DataFrame, published: pd.DataFrame) -> str:
    out = ["| row | metric | ImageNet MobileNetV2, 128 px, 18 epochs | from scratch, threshold study, "
           "60 epochs | from scratch, published default, 60 epochs |",
           "| --- | --- | --- | --- | --- |"]
    for label, imagenet_row, scratch_row in ROWS:
        for m in METRICS:
            pub = None
            if "40/255" in label:
                hit = published[(published["experiment"] == "faster_rcnn_srtod")
                                 & (published["metric"] == m)]
                pub = None if hit.empty else hit.iloc[0]
            out.append(f"| {label} | {m} | "
                       f"{_cell(_find(imagenet, imagenet_row, 'baseline (this benchmark)', m))} | "
                       f"{_cell(_find(scratch, scratch_row, 'baseline (this study)', m))} | "
                       f"{_cell(pub)} |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args()
    text = ("Each cell: row - baseline (AI-TOD protocol, percent), the seed-level and the "
            "image-level 95% interval, the seeds paired.\n\n"
            + table(pd.read_csv(RESULTS / "imagenet" / "rows_128px" / "compare.csv"),
                    pd.read_csv(RESULTS / "threshold_study" / "compare.csv"),
                    pd.read_csv(RESULTS / "default" / "compare.csv")))
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
