"""Markdown rendering of the pipeline's tables: titles, number formats, the paired comparison."""

from __future__ import annotations

import math

import pandas as pd

TITLES = {
    "table1": "Tab. 1: detectors without and with SR-TOD (paper: DroneSwarms)",
    "table2": "Tab. 2: detectors without and with SR-TOD (paper: VisDrone2019)",
    "table3": "Tab. 3: detectors without and with SR-TOD (paper: AI-TOD)",
    "table4": "Tab. 4: reconstruction head (RH) and DGFE",
    "table5": "Tab. 5: threshold filtration",
    "table6": "Tab. 6: feature enhancement",
    "table7": "Tab. 7: pixel (PD) vs high-frequency (HFD) difference map",
    "seeds": "Every experiment over its seeds (mean, std, runs)",
    "compare": "Paired differences to the baseline over seeds, with 95% confidence intervals",
    "convergence": "Convergence: the same run trained 1.5x longer (schedule stretched), test split",
    "runs": "Every run: seed, epochs, iterations, training time, test metrics",
    "per_class": "AP per class (mean over seeds), test split",
    "recon_heads": "SR-TOD at the baseline's cost: reconstruction heads (AP, APvt over seeds; "
                   "APvt difference to the paper's head with its seed-level 95% t-interval; cost)",
}
INT_COLUMNS = ("seed", "seeds", "epochs", "longer epochs", "iterations", "threads", "count",
               "detections")
RATIO_COLUMNS = ("time_ratio", "params_ratio", "gflops_ratio")


def fmt_one(value) -> str:
    """One decimal, or '-' for a missing value."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def to_markdown(df: pd.DataFrame, title: str) -> str:
    """A markdown table with one-decimal numbers and '-' for missing values."""
    if df.empty:
        return f"### {title}\n\nNo run of the active profile has this table's experiments.\n"
    cols = [c for c in df.columns if c != "experiment" or "method" not in df.columns]
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join(" --- " for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v):
                cells.append(f"{v:.4f}" if c in ("final t", "s/image (test)") else
                             f"{v:.2f}" if c == "s/frame" else
                             f"{v:.3f}" if c in RATIO_COLUMNS else
                             str(int(v)) if c in INT_COLUMNS else fmt_one(float(v)))
            elif isinstance(v, float):  # NaN: no value
                cells.append("-")
            else:
                cells.append("" if v is None else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compare_markdown(df: pd.DataFrame, title: str = TITLES["compare"]) -> str:
    """The comparison as markdown: mean ± std, difference [t-interval] [bootstrap interval]."""
    lines = [f"### {title}", "",
             "Difference = experiment - baseline, paired by seed (same test images). Seed-level CI: "
             "Student's t over the per-seed differences; image-level CI: paired bootstrap over test "
             f"images ({int(df['replicates'].max()) if len(df) else 0} replicates, percentile). "
             "Both 95%.", "",
             "| experiment | metric | seeds | experiment mean ± std | baseline mean ± std | "
             "difference | seed-level 95% CI | image-level 95% CI | verdict (seed / image) |",
             "|" + "|".join(" --- " for _ in range(9)) + "|"]

    def pm(mean, std):
        return f"{mean:.1f} ± {std:.1f}" if not math.isnan(std) else f"{mean:.1f}"

    def ci(lo, hi):
        return "-" if math.isnan(lo) else f"[{lo:+.1f}, {hi:+.1f}]"

    for _, r in df.iterrows():
        lines.append(f"| {r['experiment']} vs {r['baseline']} | {r['metric']} | {r['seeds']} | "
                     f"{pm(r['mean'], r['std'])} | {pm(r['baseline mean'], r['baseline std'])} | "
                     f"{r['difference']:+.1f} | {ci(r['t low'], r['t high'])} | "
                     f"{ci(r['bootstrap low'], r['bootstrap high'])} | "
                     f"{r['seed-level CI']} / {r['image-level CI']} |")
    return "\n".join(lines) + "\n"
