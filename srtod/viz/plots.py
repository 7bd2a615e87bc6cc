"""Statistics plots: object sizes, training curves, PR curves, mask coverage, seed spread.

Each function takes pandas DataFrames (columns documented per function) and returns a
:class:`matplotlib.figure.Figure` styled with seaborn 'whitegrid'; nothing is written to disk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from ._common import BUCKETS, bucket_label, new_figure, order_keys, styled


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; has {list(df.columns)}")


def _note(ax: Axes, text: str) -> None:
    """Grey centred note inside ``ax`` (e.g. 'no data')."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4",
            fontsize=11, wrap=True)


def _colors(names: Sequence[str]) -> dict[str, tuple]:
    """One colour per experiment name, stable across the panels of a figure."""
    palette = sns.color_palette("tab10" if len(names) <= 10 else "husl", len(names))
    return dict(zip(names, palette, strict=True))


def plot_size_histogram(sizes: pd.DataFrame) -> Figure:
    """Histogram of box sizes sqrt(w * h) per split with the AI-TOD buckets shaded (very tiny
    < 8, tiny 8-16, small 16-32, medium >= 32 px; paper Sec. 4.1) and per-bucket counts.

    ``sizes``: columns ``size`` (px) and ``split`` (optional). Linear x from 0 to
    max(40, 99th percentile); y is the share of each split's boxes, so splits compare.
    """
    _require(sizes, ["size"], "sizes")
    df = sizes.assign(split=sizes["split"].astype(str) if "split" in sizes else "all")
    df = df[np.isfinite(df["size"].astype(float))]
    values = df["size"].to_numpy(float)
    xmax = float(math.ceil(max(40.0, np.percentile(values, 99) if len(values) else 0.0)))
    width = max(1, math.ceil(xmax / 120))
    bins = np.arange(0, xmax + width, width)
    splits = list(dict.fromkeys(df["split"]))
    colors = _colors(splits)

    fig = new_figure((11, 5.6))
    with styled():
        ax = fig.subplots()
    edges = [(k, lo, min(hi, xmax)) for k, (_, lo, hi) in BUCKETS.items() if lo < xmax]
    for i, (_, lo, hi) in enumerate(edges):
        ax.axvspan(lo, hi, color=("0.90", "0.97")[i % 2], zorder=0)
        if lo > 0:
            ax.axvline(lo, color="0.35", ls="--", lw=1, zorder=1)

    ymax = 0.0
    for split in splits:
        v = df.loc[df["split"] == split, "size"].to_numpy(float)
        counts, _, _ = ax.hist(v, bins=bins, weights=np.full(len(v), 100.0 / len(v)),
                               histtype="step", lw=1.8, color=colors[split],
                               label=f"{split} (n={len(v):,})")
        ymax = max(ymax, float(np.max(counts, initial=0)))
    if not splits:
        _note(ax, "no boxes")
    ax.set_ylim(0, (ymax or 1.0) * 1.5)

    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for key, lo, hi in edges:
        name, _, upper = BUCKETS[key]
        lines = [bucket_label(key)]
        for split in splits:
            v = df.loc[df["split"] == split, "size"].to_numpy(float)
            n = int(((v >= lo) & (v < upper)).sum())
            lines.append(f"{split}: {n:,} ({n / len(v):.0%})")
        ax.text((lo + hi) / 2, 0.98, "\n".join(lines), transform=trans, ha="center", va="top",
                fontsize=8.5, linespacing=1.25)
    n_out = int((values > xmax).sum())
    hidden = f"; {n_out:,} boxes > {xmax:g} px not shown (counted above)" if n_out else ""
    ax.set_xlim(0, xmax)
    ax.set_xlabel(f"box size $\\sqrt{{w \\cdot h}}$ (px){hidden}")
    ax.set_ylabel(f"% of the split's boxes per {width}-px bin")
    ax.set_title("Object sizes with AI-TOD buckets (counts per bucket annotated)")
    if splits:
        ax.legend(loc="center right", title="split")
    return fig


_CURVE_PANELS = (
    ("loss", "total loss"),
    ("loss_rec", "reconstruction loss (MSE, Sec. 3.2)"),
    ("srtod_t", "learnable threshold t (Eq. 4)"),
    ("srtod_on", "share of pixels D_b switches on"),
)


def plot_training_curves(curves: dict[str, pd.DataFrame]) -> Figure:
    """Training curves per experiment: total loss, reconstruction loss, threshold t and the share
    of pixels D_b switches on (paper Sec. 3.2-3.3). Each DataFrame has ``iter`` and any of
    ``loss``, ``loss_rec``, ``srtod_t``, ``srtod_on`` (NaN allowed). Long noisy series get a
    moving average on top of the faint raw values; a note flags a threshold that never changes.
    Four axes."""
    names = list(curves)
    colors = _colors(names)
    fig = new_figure((19, 4.9))
    with styled():
        axes = fig.subplots(1, len(_CURVE_PANELS))
    handles: dict[str, Line2D] = {}
    for ax, (col, label) in zip(axes, _CURVE_PANELS, strict=True):
        constant: list[str] = []
        drawn = 0
        for name in names:
            df = curves[name]
            if col not in df or "iter" not in df:
                continue
            s = df[["iter", col]].astype(float).dropna().sort_values("iter")
            if s.empty:
                continue
            x, y = s["iter"].to_numpy(), s[col].to_numpy()
            c = colors[name]
            if len(y) >= 100:
                ax.plot(x, y, color=c, alpha=0.25, lw=0.8)
                y = pd.Series(y).rolling(max(5, len(y) // 50), center=True, min_periods=1).mean()
            (line,) = ax.plot(x, y, color=c, lw=1.8, marker="o" if len(x) == 1 else None)
            handles.setdefault(name, line)
            drawn += 1
            vals = s[col].to_numpy()
            if col == "srtod_t" and len(vals) > 1 and np.ptp(vals) <= 1e-9 * max(1, abs(vals[0])):
                constant.append(f"{name} (t = {vals[0]:.4g})")
        if not drawn:
            _note(ax, f"no '{col}' values logged")
        if constant:  # a threshold that never moves is worth flagging (is t learned at all?)
            label = f"{label}\nconstant: " + ", ".join(constant)
        ax.set_title(label)
        ax.set_xlabel("iteration")
        ax.set_ylabel({"srtod_t": "t", "srtod_on": "share"}.get(col, "loss"))
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncol=min(len(handles), 5), title="experiment")
    fig.suptitle("Training curves (faint: raw, bold: moving average when long)")
    return fig


def plot_pr_curves(curves: dict[str, pd.DataFrame]) -> Figure:
    """Precision at IoU 0.5 vs recall per AI-TOD size bucket, one line per experiment (the
    curves behind AP_0.5 / AP_vt... of Tab. 1-3). Each DataFrame has ``bucket``, ``recall``,
    ``precision_50`` (fractions; NaN = no GT). One axis per bucket present; legend entries give
    AP50 = mean precision over the recall points."""
    for name, df in curves.items():
        _require(df, ["bucket", "recall", "precision_50"], f"curves[{name!r}]")
    keys = order_keys(k for df in curves.values() for k in df["bucket"].astype(str))
    colors = _colors(list(curves))
    n = max(1, len(keys))
    fig = new_figure((3.9 * n + 0.4, 4.6))
    with styled():
        axes = np.atleast_1d(fig.subplots(1, n, sharey=True))
    if not keys:
        _note(axes[0], "no PR curves")
    for ax, key in zip(axes, keys, strict=False):
        drawn = 0
        for name, df in curves.items():
            sub = df[df["bucket"].astype(str) == key].sort_values("recall")
            p = sub["precision_50"].to_numpy(float)
            if not np.isfinite(p).any():
                continue
            ap = 100 * np.nanmean(p)
            ax.plot(sub["recall"], p, color=colors[name], lw=1.8, label=f"{name} (AP50 {ap:.1f})")
            drawn += 1
        if drawn:
            ax.legend(loc="lower left", fontsize=8.5)
        else:
            _note(ax, "no ground truth\nin this bucket")
        ax.set_title(bucket_label(key))
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("precision @ IoU 0.5")
    fig.suptitle("Precision-recall per object size (AI-TOD buckets)")
    return fig


def plot_coverage(coverage: pd.DataFrame) -> Figure:
    """How much the binary difference map covers GT boxes vs background (paper Fig. 1 claim:
    D lights up tiny objects). Per experiment one axis with bars per size bucket: ``touched``
    (share of boxes hit at all) and ``covered`` (mean share of box pixels), plus a dashed line
    at the ``background`` share; labels on covered bars give covered / background."""
    _require(coverage, ["experiment", "bucket", "touched", "covered", "background"], "coverage")
    exps = list(dict.fromkeys(coverage["experiment"].astype(str)))
    keys = order_keys(coverage["bucket"].astype(str), ("vt", "t", "s", "m", "all"))
    n = max(1, len(exps))
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = new_figure((1.25 * len(keys) * ncols + 1.6 * ncols + 0.5, 4.4 * nrows + 0.5))
    with styled():
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel())
    for ax in axes[len(exps) :]:
        ax.remove()
    if not exps:
        _note(axes[0], "no coverage rows")
    c_touch, c_cover, c_bg = sns.color_palette("deep")[0], sns.color_palette("deep")[2], "red"
    x = np.arange(len(keys))
    w = 0.38
    for ax, exp in zip(axes, exps, strict=False):
        sub = coverage[coverage["experiment"].astype(str) == exp].copy()
        sub["bucket"] = sub["bucket"].astype(str)
        sub = sub.groupby("bucket")[["touched", "covered", "background"]].mean()
        sub = sub.reindex(keys)
        touched = 100 * sub["touched"].to_numpy(float)
        covered = 100 * sub["covered"].to_numpy(float)
        bg = 100 * float(np.nanmean(sub["background"])) if sub["background"].notna().any() else None
        bars_t = ax.bar(x - w / 2, np.nan_to_num(touched), w, color=c_touch)
        bars_c = ax.bar(x + w / 2, np.nan_to_num(covered), w, color=c_cover)
        ax.bar_label(bars_t, [f"{v:.0f}%" if np.isfinite(v) else "" for v in touched],
                     fontsize=8, padding=2)
        labels = []
        for v in covered:
            if not np.isfinite(v):
                labels.append("")
            elif bg:
                labels.append(f"{v:.0f}%\n{v / bg:.1f}\u00d7bg")
            else:
                labels.append(f"{v:.0f}%")
        ax.bar_label(bars_c, labels, fontsize=8, padding=2)
        for i in np.flatnonzero(~np.isfinite(touched) & ~np.isfinite(covered)):
            ax.text(x[i], 6, "no boxes", ha="center", va="bottom", fontsize=8.5, color="0.4")
        if bg is not None:
            ax.axhline(bg, color=c_bg, ls="--", lw=1.5)
        ax.set_xticks(x, [bucket_label(k).replace(" (", "\n(") for k in keys], fontsize=9)
        ax.set_ylim(0, 118)
        bg_text = "n/a" if bg is None else f"{bg:.1f}%"
        ax.set_title(f"{exp}  (background covered: {bg_text})")
    for ax in axes[: len(exps)]:
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("% of boxes / of box pixels")
    handles = [
        Patch(color=c_touch, label="boxes touched by the mask"),
        Patch(color=c_cover, label="box pixels covered (mean)"),
        Line2D([], [], color=c_bg, ls="--", label="background pixels covered"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    fig.suptitle("Binary difference map $D_b$: coverage of GT boxes vs background")
    return fig


def plot_seed_spread(df: pd.DataFrame, metrics: Sequence[str] | None = None) -> Figure:
    """Spread of final metrics (e.g. AP and AP_vt, paper Tab. 1-3) over seeds: one axis per
    metric, one strip of seed values per experiment with mean +- std (black) annotated.
    ``df``: columns ``experiment``, ``seed``, ``metric``, ``value``; ``metrics`` picks/orders
    the metrics (default: all, in order of appearance)."""
    _require(df, ["experiment", "seed", "metric", "value"], "df")
    data = df.assign(experiment=df["experiment"].astype(str), metric=df["metric"].astype(str))
    data = data[np.isfinite(data["value"].astype(float))]
    names = list(metrics) if metrics is not None else list(dict.fromkeys(data["metric"]))
    exps = list(dict.fromkeys(data["experiment"]))
    colors = _colors(exps)
    n = max(1, len(names))
    fig = new_figure(((1.5 * len(exps) + 2.5) * n, 5.0))
    with styled():
        axes = np.atleast_1d(fig.subplots(1, n))
    if not names:
        _note(axes[0], "no metrics")
    for ax, metric in zip(axes, names, strict=False):
        sub = data[data["metric"] == metric]
        if sub.empty:
            _note(ax, f"no values for {metric}")
        else:
            sns.stripplot(data=sub, x="experiment", y="value", hue="experiment", order=exps,
                          hue_order=exps, palette=colors, legend=False, jitter=0.12, size=7,
                          alpha=0.75, ax=ax)
            for i, exp in enumerate(exps):
                v = sub.loc[sub["experiment"] == exp, "value"].to_numpy(float)
                if len(v) == 0:
                    continue
                mean, std = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
                ax.errorbar(i + 0.3, mean, yerr=std, fmt="D", color="black", capsize=5,
                            ms=6, zorder=5)
                txt = f"{mean:.2f} \u00b1 {std:.2f}" if len(v) > 1 else f"{mean:.2f}"
                ax.annotate(f"{txt}\n(n={len(v)})", (i + 0.38, mean), fontsize=8.5,
                            va="center", ha="left", xytext=(4, 0), textcoords="offset points")
            ax.set_xlim(-0.6, len(exps) - 0.1)
        ax.set_title(f"{metric} over seeds (black: mean \u00b1 std)")
        ax.set_xlabel("experiment")
        ax.set_ylabel(metric)
        if len(exps) > 3 or max((len(e) for e in exps), default=0) > 14:
            ax.tick_params(axis="x", labelrotation=25)
    return fig


def plot_val_curves(curves: dict[str, pd.DataFrame], groups: dict[str, str] | None = None,
                    metrics: Sequence[str] = ("AP", "APvt")) -> Figure:
    """Validation AP against training iterations, one line per run (is it converged?).

    ``curves``: run name -> DataFrame with ``iter`` and the metric columns (percent);
    ``groups``: run -> experiment, which sets the colour (seeds of one experiment share it)."""
    groups = groups or {name: name for name in curves}
    exps = list(dict.fromkeys(groups[n] for n in curves))
    colors = _colors(exps) if exps else {}
    fig = new_figure((6.5 * len(metrics), 4.8))
    with styled():
        axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        drawn = 0
        for name, df in curves.items():
            if metric not in df or "iter" not in df:
                continue
            s = df[["iter", metric]].astype(float).dropna().sort_values("iter")
            if s.empty:
                continue
            ax.plot(s["iter"], s[metric], color=colors[groups[name]], lw=1.5, marker="o", ms=3,
                    alpha=0.85)
            drawn += 1
        if not drawn:
            _note(ax, f"no validation {metric} logged (train.val_interval)")
        ax.set_title(f"validation {metric}")
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"{metric} (%)")
    handles = [Line2D([], [], color=colors[e], lw=2) for e in exps]
    if handles:
        fig.legend(handles, exps, loc="outside lower center", ncol=min(len(exps), 5),
                   title="experiment (one line per seed)")
    fig.suptitle("Validation AP during training")
    return fig


def plot_paired_differences(compare: pd.DataFrame) -> Figure:
    """Paired differences to the baseline with their 95% intervals, one axis per metric.

    ``compare``: :func:`srtod.stages.tables.compare_table`'s columns ``experiment``, ``metric``,
    ``difference``, ``t low``/``t high`` (seed level) and ``bootstrap low``/``bootstrap high``
    (image level). An interval that crosses the dashed zero line shows no measured effect."""
    _require(compare, ["experiment", "metric", "difference", "t low", "t high",
                       "bootstrap low", "bootstrap high"], "compare")
    metrics = list(dict.fromkeys(compare["metric"]))
    exps = list(dict.fromkeys(compare["experiment"]))
    fig = new_figure((4.2 * max(1, len(metrics)), 1.0 + 0.7 * max(2, len(exps))))
    with styled():
        axes = np.atleast_1d(fig.subplots(1, max(1, len(metrics)), sharey=True))
    if not metrics:
        _note(axes[0], "no paired comparisons (runs over several seeds)")
    for ax, metric in zip(axes, metrics, strict=False):
        sub = compare[compare["metric"] == metric].set_index("experiment")
        for i, exp in enumerate(exps):
            if exp not in sub.index:
                continue
            r = sub.loc[exp]
            ax.plot([r["t low"], r["t high"]], [i + 0.12] * 2, color="C0", lw=3,
                    solid_capstyle="butt")
            ax.plot([r["bootstrap low"], r["bootstrap high"]], [i - 0.12] * 2, color="C1", lw=3,
                    solid_capstyle="butt")
            ax.plot(r["difference"], i, "D", color="black", ms=6, zorder=5)
        ax.axvline(0, color="0.3", ls="--", lw=1)
        ax.set_yticks(range(len(exps)), exps)
        ax.set_ylim(-0.6, len(exps) - 0.4)
        ax.invert_yaxis()
        ax.set_title(f"{metric}: experiment - baseline")
        ax.set_xlabel("difference (AP points)")
    fig.legend([Line2D([], [], color="C0", lw=3), Line2D([], [], color="C1", lw=3),
                Line2D([], [], color="black", marker="D", ls="")],
               ["seed-level 95% CI (t)", "image-level 95% CI (paired bootstrap)",
                "mean paired difference"], loc="outside lower center", ncol=3)
    return fig


def plot_detection_changes(changes: pd.DataFrame, score_thr: float = 0.3) -> Figure:
    """Where the detections changed against the baseline, one axis per size bucket: for each row
    and seed, the drones gained (hits at IoU 0.5, up) against the false positives added (right)
    among detections scoring at least ``score_thr``; a large marker is the row's mean over seeds.
    Up-left is better, down-right worse.

    ``changes``: :func:`srtod.stages.study.detection_changes`' columns ``row``, ``seed``,
    ``bucket``, ``score_thr``, ``n_gt``, ``hits``, ``false_positives``, ``baseline hits``,
    ``baseline false_positives``."""
    _require(changes, ["row", "seed", "bucket", "score_thr", "n_gt", "hits", "false_positives",
                       "baseline hits", "baseline false_positives"], "changes")
    df = changes[np.isclose(changes["score_thr"].astype(float), score_thr)].assign(
        gained=lambda d: d["hits"] - d["baseline hits"],
        added=lambda d: d["false_positives"] - d["baseline false_positives"])
    buckets = list(dict.fromkeys(df["bucket"])) or ["vt"]
    rows = list(dict.fromkeys(df["row"]))
    colors = _colors(rows) if rows else {}
    fig = new_figure((4.6 * len(buckets), 4.4))
    with styled():
        axes = np.atleast_1d(fig.subplots(1, len(buckets)))
    for ax, bucket in zip(axes, buckets, strict=True):
        sub = df[df["bucket"] == bucket]
        if sub.empty:
            _note(ax, "no runs with detections")
            continue
        for row in rows:
            r = sub[sub["row"] == row]
            ax.scatter(r["added"], r["gained"], color=colors[row], s=22, alpha=0.6)
            ax.scatter(r["added"].mean(), r["gained"].mean(), color=colors[row], s=110,
                       marker="D", edgecolor="black", zorder=5)
        ax.axhline(0, color="0.3", ls="--", lw=1)
        ax.axvline(0, color="0.3", ls="--", lw=1)
        ax.set_title(f"{bucket_label(bucket)}: {int(sub['n_gt'].iloc[0])} test drones, "
                     f"score >= {score_thr:g}")
        ax.set_xlabel("false positives added (row - baseline)")
        ax.set_ylabel("drones hit at IoU 0.5, gained")
    fig.legend([Line2D([], [], color=colors[r], marker="D", ls="", mec="black") for r in rows],
               rows, loc="outside lower center", ncol=2)
    return fig
