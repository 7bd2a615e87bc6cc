"""The study's tables as markdown (each interval's verdict in words, the machines of each
comparison) and its figure of paired differences."""

from __future__ import annotations

import math

import pandas as pd

from .design import STUDY_METRICS, THRESHOLD_STUDY, Design


def _num(v, fmt="{:.1f}") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def _mean_std(mean, std) -> str:
    """``mean ± std``, or the mean alone where the spread is unknown (one seed)."""
    return _num(mean) if std is None or math.isnan(std) else f"{_num(mean)} ± {_num(std)}"


def _interval(low, high) -> str:
    """A signed 95% interval ``[low, high]``, or ``-`` where it could not be computed."""
    return "-" if math.isnan(low) else f"[{low:+.1f}, {high:+.1f}]"


def machine_legend(which: pd.DataFrame, design: Design = THRESHOLD_STUDY) -> str:
    """What each machine label of the tables stands for (``which``: the ``run_machines`` table)."""
    notes = {src.label: src.machine_note for src in design.sources}
    described: dict[str, list[str]] = {}
    for _, r in which.iterrows():
        base = r["label"].split("+")[0]
        what = ("machines of the study, inferred from the sittings that trained their runs "
                "(machines.csv)" if r["from"] == "inferred from the sittings"
                else notes.get(r["source"]) or r["machine"] if r["from"] == "its source"
                else "not known" if r["from"] == "unknown" else r["machine"])
        if base not in described.setdefault(what, []):
            described[what].append(base)
    text = "; ".join(f"{', '.join(sorted(labels))}: {what}"
                     for what, labels in sorted(described.items(), key=lambda kv: min(kv[1])))
    if which["label"].str.contains(r"\+").any():
        text += ("; +Nt: trained with N threads (the others: 1), which alone changes the "
                 "weights")
    return "Machines: " + text + "."


def study_markdown(tables: dict[str, pd.DataFrame], design: Design = THRESHOLD_STUDY,
                   metrics=STUDY_METRICS) -> str:
    """The ``design``'s tables as markdown, with the verdict of each interval in words and the
    machines of each comparison's runs."""
    rows, compare, coverage = tables["rows"], tables["compare"], tables["coverage"]
    out = [f"### {design.title}: every row, test split (mean ± std over the seeds done)", ""]
    if "run_machines" in tables and not tables["run_machines"].empty:
        out += [machine_legend(tables["run_machines"], design), ""]
    out += ["| row | changes | seeds | machines (by seed) | " + " | ".join(metrics) + " |",
            "|" + "|".join(" --- " for _ in range(4 + len(metrics))) + "|"]
    for _, r in rows.iterrows():
        cells = [_mean_std(r[m], r[f"{m} std"]) for m in metrics]
        out.append(f"| {r['row']} | {r['changes']} | {r['seeds']} | {r.get('machines', '')} | "
                   + " | ".join(cells) + " |")
    out += ["", "### Paired differences (row - reference, by seed; 95% intervals)", "",
            "Seed-level: Student's t over the per-seed differences (needs 2 seeds); image-level: "
            "paired bootstrap over the test images (needs every run's detections: the published "
            "runs have none). Machines: the row's run / the reference's run, per seed pair, and "
            "how many pairs trained on one machine (runs of one seed on two machines do not "
            "repeat each other's numerics: the pair shares the seed, not the run).", "",
            "| row | reference | metric | seeds | machines (row/reference) | difference | "
            "seed-level CI | image-level CI | verdict (seed / image) |",
            "|" + "|".join(" --- " for _ in range(9)) + "|"]
    for _, r in compare.iterrows():
        seed_ci = _interval(r["t low"], r["t high"])
        img_ci = _interval(r["bootstrap low"], r["bootstrap high"])
        out.append(f"| {r['row']} | {r['reference']} | {r['metric']} | {r['seeds']} | "
                   f"{r.get('machines', '')} ({r.get('same machine', '?')} shared) | "
                   f"{r['difference']:+.1f} | {seed_ci} | {img_ci} | {r['seed-level CI']} / "
                   f"{r['image-level CI']} |")
    pooled = tables.get("pooled")
    if pooled is not None and not pooled.empty and sum(s.pooled for s in design.sources) > 1:
        pooled_sources = ", ".join(src.label for src in design.sources if src.pooled)
        out += ["", "### SR-TOD t = 40/255 - baseline, runs pooled over the sources "
                f"({pooled_sources}; unpaired, 95% Welch interval over runs)", "",
                "Every run of each reference, whatever its source and machine: mean ± std over "
                "the runs, the difference of the means and Welch's t-interval (unequal variances). "
                "Unpaired, since a seed's pairing holds on one machine only; the spread between "
                "machines is inside the interval instead of beside it.", "",
                "| metric | baseline runs (machines) | baseline | SR-TOD runs (machines) | SR-TOD | "
                "difference | 95% CI (Welch, df) | verdict |",
                "|" + "|".join(" --- " for _ in range(8)) + "|"]
        for _, r in pooled.iterrows():
            ci = _interval(r["welch low"], r["welch high"])
            ci += "" if ci == "-" else f" (df {r['df']:.1f})"
            out.append(f"| {r['metric']} | {r['baseline runs']} ({r['baseline machines']}) | "
                       f"{_num(r['baseline mean'])} ± {_num(r['baseline std'])} | "
                       f"{r['SR-TOD runs']} ({r['SR-TOD machines']}) | "
                       f"{_num(r['SR-TOD mean'])} ± {_num(r['SR-TOD std'])} | "
                       f"{r['difference']:+.1f} | {ci} | {r['verdict']} |")
    cols = ["background on %", "very tiny touched %", "tiny touched %", "very tiny covered %",
            "final t x 255"]
    changes = tables.get("detection_changes")
    n_cov = coverage.get("very tiny boxes", pd.Series(dtype=float)).dropna()
    n_ap = (changes.loc[changes["bucket"] == "vt", "n_gt"] if changes is not None
            else pd.Series(dtype=float))
    out += ["", "### What D_b switches on (test split, mean over seeds) and the final t", "",
            "Very tiny here: sqrt(w h) < 8 px"
            + (f" ({int(n_cov.iloc[0])} test boxes)" if len(n_cov) else "")
            + ", as `srtod threshold` counts; AI-TOD's APvt and the detection changes below "
            "count area <= 64 px^2" + (f" ({int(n_ap.iloc[0])})" if len(n_ap) else "")
            + ", both ends inclusive (an 8 x 8 box is very tiny and tiny there, tiny here).",
            "",
            "| row | seeds | " + " | ".join(cols) + " |",
            "|" + "|".join(" --- " for _ in range(2 + len(cols))) + "|"]
    for _, r in coverage.iterrows():
        cells = [_num(r.get(c), "{:.2f}") for c in cols]
        out.append(f"| {r['row']} | {r['seeds']} | " + " | ".join(cells) + " |")
    if changes is not None and not changes.empty:
        out += ["", f"### Where the detections changed (row - baseline of {design.own.label}, IoU 0.5)",
                "",
                "Hits: test drones of the bucket (AI-TOD's area ranges: very tiny area <= 64 "
                "px^2) matched by a detection scoring at least the threshold; false positives: "
                "such detections of the bucket's size that match nothing. Per seed (0, 1, 2), "
                "then the sum; machines: the row's run / the baseline's, per seed.", "",
                "| row | machines | bucket | score >= | drones | hits gained | "
                "false positives added |",
                "|" + "|".join(" --- " for _ in range(7)) + "|"]
        for (row, bucket, thr), g in changes.groupby(["row", "bucket", "score_thr"], sort=False):
            dh = (g["hits"] - g["baseline hits"]).tolist()
            df = (g["false_positives"] - g["baseline false_positives"]).tolist()
            pairs = ", ".join(f"{m}/{b}" for m, b in zip(g["machine"], g["baseline machine"],
                                                         strict=True))
            out.append(f"| {row} | {pairs} | {bucket} | {thr:g} | {g['n_gt'].iloc[0]} | "
                       f"{', '.join(f'{v:+d}' for v in dh)} (sum {sum(dh):+d}) | "
                       f"{', '.join(f'{v:+d}' for v in df)} (sum {sum(df):+d}) |")
    return "\n".join(out) + "\n"


def study_figure(compare: pd.DataFrame, design: Design = THRESHOLD_STUDY,
                 metrics=("AP", "APvt", "ARvt")):
    """The paired differences of every row to the references trained for the study (both
    intervals), one axis per metric (:func:`srtod.viz.plot_paired_differences`)."""
    own = f" ({design.own.label})"
    from ...viz import plot_paired_differences

    if compare.empty:
        return plot_paired_differences(compare.reindex(columns=[
            "experiment", "metric", "difference", "t low", "t high", "bootstrap low",
            "bootstrap high"]))
    sub = compare[compare["reference"].str.endswith(own)
                  & compare["metric"].isin(metrics)].copy()
    reference = sub["reference"].str.replace(own, "", regex=False)
    seeds = sub["seeds"].map(lambda n: f"{n} seed" + ("" if n == 1 else "s"))
    sub["experiment"] = sub["row"] + "\nvs " + reference + " (" + seeds + ")"
    return plot_paired_differences(sub)
