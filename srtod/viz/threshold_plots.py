"""The threshold curve (:mod:`srtod.evaluation.threshold_curve`) as a figure: boxes touched
against background switched on, coverage against t, and where D peaks on each box size."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._common import bucket_label, new_figure, styled

_BUCKET_COLORS = {"vt": "tab:red", "t": "tab:orange", "s": "tab:green"}


def plot_threshold_curve(curve: pd.DataFrame, summary: dict,
                         peaks: dict[str, list[float]] | None = None) -> Figure:
    """Three panels from a curve table and its summary (``threshold.json``): (a) share of boxes
    touched per size against share of background on (log x), the recommended t and the named
    thresholds (``summary['at']``) marked; (b) background on, very tiny boxes touched and very
    tiny box pixels covered against t x 255; (c) histograms of each box size's peak D (x 255)."""
    best = summary["recommended"]
    named = summary.get("at", {})
    with styled():
        fig = new_figure((15, 5.6))
        ax_roc, ax_t, ax_peak = fig.subplots(1, 3)
        floor = 1e-5  # background shares of 0 drawn at the log axis' floor
        for key, color in _BUCKET_COLORS.items():
            col = f"touched_{key}"
            if col in curve and curve[col].notna().any():
                ax_roc.plot(np.maximum(curve["background_on"], floor), 100 * curve[col],
                            color=color, label=f"{bucket_label(key)} touched")
        ax_roc.set_xscale("log")
        ax_roc.set_xlabel("background pixels on (share, log)")
        ax_roc.set_ylabel("boxes touched (%)")
        ax_roc.set_title("(a) boxes touched vs background on")
        markers = iter("sD^vP*")
        for name, row in named.items():
            ax_roc.scatter(max(row["background_on"], floor), 100 * row["touched_vt"],
                           marker=next(markers, "o"), color="0.2", zorder=3,
                           label=f"{name}: t = {row['t255']:.1f}/255")
        ax_roc.scatter(max(best["background_on"], floor), 100 * best["touched_vt"], s=90,
                       facecolor="none", edgecolor="tab:blue", linewidth=2, zorder=4,
                       label=f"recommended: t = {best['t255']:.2f}/255")
        ax_roc.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2,
                      frameon=False)

        ax_t.plot(curve["t255"], 100 * curve["background_on"], color="0.3", label="background on")
        ax_t.plot(curve["t255"], 100 * curve["touched_vt"], color="tab:red",
                  label="very tiny boxes touched")
        ax_t.plot(curve["t255"], 100 * curve["covered_vt"], color="tab:red", linestyle="--",
                  label="very tiny box pixels covered")
        ax_t.axvline(best["t255"], color="tab:blue", linewidth=1.5, label="recommended t")
        top = max(2 * best["t255"], max((r["t255"] for r in named.values()), default=0) * 1.2)
        ax_t.set_xlim(0, min(top, float(curve["t255"].max())))
        ax_t.set_xlabel("t x 255")
        ax_t.set_ylabel("%")
        ax_t.set_title("(b) coverage against t")
        ax_t.legend(fontsize=7)

        for key, color in _BUCKET_COLORS.items():
            values = np.asarray((peaks or {}).get(key, []), dtype=float) * 255
            if values.size:
                ax_peak.hist(values, bins=30, alpha=0.5, color=color,
                             label=f"{bucket_label(key)} (n = {values.size})")
        ax_peak.axvline(best["t255"], color="tab:blue", linewidth=1.5, label="recommended t")
        ax_peak.set_xlabel("peak D in the box x 255")
        ax_peak.set_ylabel("boxes")
        ax_peak.set_title("(c) where D peaks on each box")
        ax_peak.legend(fontsize=7)
        fig.suptitle(f"Difference map D vs threshold t ({summary.get('split', '')} split, "
                     f"{summary.get('n_images', '?')} images)")
    return fig
