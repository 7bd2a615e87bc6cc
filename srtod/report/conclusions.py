"""Each notebook's closing sentence, computed from the numbers the chapter produced.

Every function takes what a stage wrote (its records, tables or JSON, as loaded by the notebook)
and returns markdown: the finding and the numbers it rests on, formatted as the published tables
format them (one decimal, signed differences, intervals ``[low, high]``), so a reader can find
each number of a sentence in the tables above it. Nothing here is typed in by hand: with other
numbers, the sentences say other things (a gain, a loss, no effect; dominate or not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import pandas as pd

PAPER_T = 40 / 255  # the paper's DroneSwarms threshold, the configs' init
SEED_SUFFIX = re.compile(r"_s[1-9][0-9]*$")


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(share: float) -> str:
    """A share in [0, 1] as a percentage: whole from 10%, one decimal below (a 0.3% background
    is not 0%), ``-`` when unknown."""
    if _nan(share):
        return "-"
    return f"{100 * share:.0f}%" if 100 * share >= 9.95 else f"{100 * share:.1f}%"


def ci(low: float, high: float) -> str:
    """An interval as the tables print it, ``[-2.2, +1.1]``; ``no interval`` when unknown."""
    return "no interval" if _nan(low) or _nan(high) else f"[{low:+.1f}, {high:+.1f}]"


def _join(items: list[str], last: str = "and") -> str:
    items = [i for i in items if i]
    return (", ".join(items[:-1]) + f" {last} " + items[-1]) if len(items) > 1 else \
        (items[0] if items else "")


def experiment_of(run: str) -> str:
    """The experiment of a run (``faster_rcnn_s2`` -> ``faster_rcnn``)."""
    return SEED_SUFFIX.sub("", run)


# ---------------------------------------------------------------------------------- 1 · data


def data_conclusion(stats: Mapping[str, dict], validation: Mapping[str, dict] | None = None,
                    split: str = "test") -> str:
    """The objects of ``split`` by AI-TOD size bucket, whether tiny objects (under 16 px)
    dominate, and what validation changed (``validation``: per split, the validator's report with
    its ``counts``)."""
    s = stats[split]
    frac = s.get("size_bucket_fractions", {})
    vt, t = frac.get("very_tiny", float("nan")), frac.get("tiny", float("nan"))
    tiny = vt + t
    verdict = ("tiny objects dominate, as in DroneSwarms" if tiny >= 0.5 else
               "tiny objects do not dominate, unlike DroneSwarms")
    text = (f"The {split} split holds {s['images']} images with {s['instances']} objects "
            f"({s['instances_per_image']:.1f} per image, median size {s['median_size']:.1f} px): "
            f"{pct(vt)} are very tiny (under 8 px) and {pct(t)} tiny (8-16 px), so {verdict}.")
    if validation:
        dropped = {k: sum(r["counts"].get(f"{k}_in", 0) - r["counts"].get(f"{k}_out", 0)
                          for r in validation.values()) for k in ("images", "annotations")}
        text += (" Validation changed no image and no annotation of any split."
                 if not any(dropped.values()) else
                 f" Validation dropped {dropped['images']} images and {dropped['annotations']} "
                 "annotations (the fixed copies are what trains).")
    return text


# --------------------------------------------------------------------------------- 2 · train


def train_conclusion(summaries: Iterable[Mapping], status: pd.DataFrame | None = None,
                     val_curves: Mapping[str, pd.DataFrame] | None = None) -> str:
    """How many runs trained how long (and how many were complete already, ``status`` from
    :func:`srtod.report.runs.training_status` before training), where SR-TOD's threshold t
    ended, and how far each run's last validation AP lies below its best."""
    summaries = [s for s in summaries if s.get("enabled", True) and not s.get("skipped")]
    if not summaries:
        return "No run of this profile was trained."
    epochs = sorted({int(s["max_epochs"]) for s in summaries if s.get("max_epochs")})
    iters = sorted({int(s["iterations"]) for s in summaries if s.get("iterations")})
    n = len(summaries)
    text = (f"{n} run{'s' * (n > 1)} trained {_join([str(e) for e in epochs], 'or')} "
            f"epoch{'s' * (epochs != [1])} ({_join([str(i) for i in iters], 'or')} iterations)")
    if status is not None and len(status):
        complete = int((status["training"] == "complete").sum())
        text += (f"; {complete} of {len(status)} were complete before this notebook ran and were "
                 "not trained again" if complete else "; each was trained by this notebook")
    text += "."
    ts = [s["final_t"] for s in summaries if s.get("final_t") is not None]
    if ts:
        lo, hi = min(ts), max(ts)
        where = (f"{lo:.4f}" if abs(hi - lo) < 5e-5 else f"{lo:.4f}-{hi:.4f}")
        moved = max(abs(lo - PAPER_T), abs(hi - PAPER_T))
        text += (f" SR-TOD's threshold t ended at {where}, its initial 40/255 = {PAPER_T:.4f}"
                 + (" (the paper's learnable t gets no gradient through the sign function)"
                    if moved < 5e-5 else f": it moved by up to {moved:.4f}") + ".")
    gaps = {}
    for run, curve in (val_curves or {}).items():
        if len(curve) and "AP" in curve:
            ap = curve["AP"].astype(float)
            gaps[run] = (float(ap.max() - ap.iloc[-1]), int(curve["epoch"].iloc[ap.argmax()]),
                         float(ap.iloc[-1]))
    if gaps:
        worst = max(gaps, key=lambda r: gaps[r][0])
        last = [g[2] for g in gaps.values()]
        span = (f"is {last[0]:.1f}" if len(last) == 1 else
                f"ranges {min(last):.1f}-{max(last):.1f} over the runs")
        text += (f" The last validation AP {span}; it lies at most {gaps[worst][0]:.1f} points "
                 f"below a run's best ({worst}, best at epoch {gaps[worst][1]}).")
    return text


# ------------------------------------------------------------------------------ 3 · evaluate


def evaluate_conclusion(records: Mapping[str, Mapping], metrics=("AP", "APvt")) -> str:
    """Test metrics per experiment (mean ± std over its seeds) and, for SR-TOD runs, the share
    of very tiny and tiny boxes the binary map D_b touches against the share of background it
    switches on (mean over the seeds)."""
    done = {r: rec for r, rec in records.items() if rec.get("metrics")}
    if not done:
        return "No run was evaluated."
    groups: dict[str, list[Mapping]] = {}
    for run, rec in done.items():
        groups.setdefault(experiment_of(run), []).append(rec)
    images = {rec.get("images") for rec in done.values()} - {None}
    parts = []
    for group, recs in groups.items():
        values = []
        for m in metrics:
            v = pd.Series([float(r["metrics"][m]) for r in recs])
            values.append(f"{m} {v.mean():.1f}" + (f" ± {v.std():.1f}" if len(v) > 1 else ""))
        parts.append(f"{group} {', '.join(values)} ({len(recs)} seed{'s' * (len(recs) > 1)})")
    text = (f"On the {_join([str(i) for i in sorted(images)], 'or')} test images: "
            f"{'; '.join(parts)}.")
    for group, recs in groups.items():
        cov = [r["coverage"] for r in recs if r.get("coverage")]
        if not cov:
            continue
        touched = {b: float(pd.Series([c["per_bucket"][b]["touched_share"] for c in cov]).mean())
                   for b in ("vt", "t")}
        background = float(pd.Series([c["background_share"] for c in cov]).mean())
        text += (f" {group}'s binary map D_b touches {pct(touched['vt'])} of the very tiny "
                 f"and {pct(touched['t'])} of the tiny boxes while switching on "
                 f"{pct(background)} of the background pixels.")
    return text


# ---------------------------------------------------------------------------------- 4 · cost


def cost_conclusion(table: pd.DataFrame) -> str:
    """What SR-TOD adds per detector: parameters, GFLOPs and time per image (the paired ratio
    with its 95% interval where measured)."""
    if table is None or not len(table):
        return "No detector was measured."
    sentences = []
    for _, r in table.iterrows():
        time = f"{r['time_ratio']:.2f}x its time per image"
        if not _nan(r.get("time_ratio_low")) and not _nan(r.get("time_ratio_high")):
            time += f" (95% interval {r['time_ratio_low']:.2f}-{r['time_ratio_high']:.2f})"
        sentences.append(f"{r['detector']}: +{100 * (r['params_ratio'] - 1):.1f}% parameters, "
                         f"{r['gflops_ratio']:.2f}x GFLOPs and {time}")
    r0 = table.iloc[0]
    return (f"At {r0['size']} px on the {'GPU' if str(r0['device']).startswith('cuda') else 'CPU'}"
            f", SR-TOD costs {'; '.join(sentences)}.")


# -------------------------------------------------------------------------------- 5 · tables


def verdict_sentence(compare: pd.DataFrame, experiment: str) -> str:
    """The comparison of ``experiment`` with its reference: each metric's difference with its
    seed-level and image-level 95% intervals, then the verdict: a gain or loss is measured only
    where an interval excludes 0."""
    rows = compare[compare["experiment"] == experiment]
    if not len(rows):
        return f"{experiment} has no comparison."
    ref, seeds = rows["baseline"].iloc[0], int(rows["seeds"].iloc[0])
    parts, gains, losses, no_interval = [], [], [], True
    for _, r in rows.iterrows():
        seed, image = (r["t low"], r["t high"]), (r["bootstrap low"], r["bootstrap high"])
        parts.append(f"{r['metric']} {r['difference']:+.1f} (over seeds {ci(*seed)}, "
                     f"over test images {ci(*image)})")
        for level, (lo, hi) in (("over seeds", seed), ("over test images", image)):
            if _nan(lo) or _nan(hi):
                continue
            no_interval = False
            if lo > 0:
                gains.append(f"{r['metric']} {level}")
            elif hi < 0:
                losses.append(f"{r['metric']} {level}")
    head = (f"{experiment} - {ref}, paired by seed ({seeds} seed{'s' * (seeds > 1)}): "
            f"{'; '.join(parts)}.")
    if no_interval:
        return head + " With one seed and no detections to resample there is no interval: no " \
                      "verdict."
    if not gains and not losses:
        verdict = "no difference is measured: every interval includes 0"
    else:
        verdict = ("no gain is measured" if not gains else
                   "a gain is measured" if not losses else "a gain and a loss are measured")
        exceptions = [f"{_join(gains)} (above 0)" if gains else "",
                      f"{_join(losses)} (below 0)" if losses else ""]
        verdict += f": every interval includes 0 except {_join(exceptions)}"
    return f"{head} **Verdict: {verdict}.**"


def paper_gain_sentence(compare: pd.DataFrame, experiment: str, detector: str,
                        paper: Mapping[str, tuple], metric: str = "AP",
                        metrics=("AP", "AP50", "AP75", "APvt", "APt", "APs")) -> str:
    """Where the paper's improvement for ``detector`` on ``metric`` lies against our intervals
    (``paper``: :data:`srtod.stages.paper.PAPER_TAB1`-like, (baseline, SR-TOD) per detector)."""
    if detector not in paper or metric not in metrics:
        return ""
    i = list(metrics).index(metric)
    gain = paper[detector][1][i] - paper[detector][0][i]
    row = compare[(compare["experiment"] == experiment) & (compare["metric"] == metric)]
    if not len(row):
        return ""
    r = row.iloc[0]
    where = [(level, "above" if gain > hi else "below" if gain < lo else "inside")
             for level, lo, hi in (("seed", r["t low"], r["t high"]),
                                   ("image", r["bootstrap low"], r["bootstrap high"]))
             if not (_nan(lo) or _nan(hi))]
    if not where:
        return ""
    places = {w for _, w in where}
    place = (f"{where[0][1]} both {metric} intervals" if len(where) == 2 and len(places) == 1
             else _join([f"{w} the {level}-level interval" for level, w in where]))
    return (f"The paper reports {gain:+.1f} {metric} for {detector} with SR-TOD "
            f"(its Tab. 1), {place}.")


def tables_conclusion(compare: pd.DataFrame, main: str | None = None, detector: str | None = None,
                      paper: Mapping[str, tuple] | None = None) -> str:
    """The verdict of the main comparison (``main``, default: the first SR-TOD experiment of the
    table) with the paper's gain placed against it, then one line per other experiment."""
    if compare is None or not len(compare):
        return "No experiment of this profile has a reference to be compared with."
    experiments = list(dict.fromkeys(compare["experiment"]))
    main = main if main in experiments else experiments[0]
    lines = [verdict_sentence(compare, main)]
    if detector and paper:
        lines[0] += " " + paper_gain_sentence(compare, main, detector, paper)
    for other in experiments:
        if other != main:
            short = verdict_sentence(compare, other).split("**Verdict: ")
            lines.append(f"- {other} against {compare[compare['experiment'] == other]['baseline'].iloc[0]}: "
                         + (short[1].rstrip("*.") + "." if len(short) > 1 else "no verdict."))
    return "\n\n".join([lines[0], "\n".join(lines[1:])]).strip()


# ------------------------------------------------------------------------------- 6 · figures


def figures_conclusion(threshold: Mapping | None) -> str:
    """What the paper's t = 40/255 switches on in the SR-TOD run's validation images, against
    the threshold the curve recommends (``threshold``: the figures stage's ``threshold.json``)."""
    if not threshold:
        return "This profile trains no SR-TOD model: no difference map to show."
    at = next((v for k, v in threshold.get("at", {}).items() if "40/255" in k), None)
    rec = threshold.get("recommended") or {}
    text = ""
    if at:
        text = (f"On the {threshold.get('n_images')} validation images, the paper's t = 40/255 "
                f"switches D_b on at {pct(at['touched_vt'])} of the very tiny and "
                f"{pct(at['touched_t'])} of the tiny drones, and at {pct(at['background_on'])} "
                "of the background.")
    if rec:
        text += (f" The threshold curve recommends t = {rec['t255']:.1f}/255 ({rec['t']:.4f}; "
                 f"{threshold.get('rule', 'Youden J')}): there D_b touches "
                 f"{pct(rec['touched_vt'])} of the very tiny drones with "
                 f"{pct(rec['background_on'])} of the background on.")
    return text.strip()


# -------------------------------------------------------------------------------- 7 · detect


def detect_conclusion(table: pd.DataFrame, metric: str = "APvt") -> str:
    """The detect stage's modes on large frames: the best by ``metric`` against the whole frame
    resized to the training input, with their times per frame."""
    if table is None or not len(table) or metric not in table:
        return "No large frame was scored."
    t = table.reset_index(drop=True)
    best = t.loc[t[metric].astype(float).idxmax()]
    resized = t[t["mode"].str.contains("full frame @") & ~t["mode"].str.contains("native")]
    text = (f"Best by {metric}: {best['mode']}, {metric} {best[metric]:.1f} (AP {best['AP']:.1f}) "
            f"at {best['s/frame']:.2f} s per frame")
    if len(resized) and resized.index[0] != best.name:
        r = resized.iloc[0]
        text += (f", against {metric} {r[metric]:.1f} for the {r['mode']} "
                 f"({r['s/frame']:.2f} s per frame)")
    return text + "."


# --------------------------------------------------------------------------------- 8 · study


def study_conclusion(compare: pd.DataFrame, reference: str | None = None,
                     metrics=("AP", "APvt")) -> str:
    """Which rows of the threshold study differ measurably from ``reference`` (default: the
    study's own SR-TOD at t = 40/255) on ``metrics``: an interval (seed or image level) that
    excludes 0."""
    if compare is None or not len(compare):
        return "No run of the study is recorded."
    refs = list(dict.fromkeys(compare["reference"]))
    if reference is None:
        reference = next((r for r in refs if "40/255" in r and "this study" in r),
                         next((r for r in refs if "40/255" in r), refs[0]))
    rows = compare[(compare["reference"] == reference) & compare["metric"].isin(metrics)]
    rows = rows[rows["row"] != reference]
    if not len(rows):
        return f"No row is compared with {reference}."
    measured = []
    for _, r in rows.iterrows():
        for level, lo, hi in (("over seeds", r["t low"], r["t high"]),
                              ("over test images", r["bootstrap low"], r["bootstrap high"])):
            if not (_nan(lo) or _nan(hi)) and (lo > 0 or hi < 0):
                measured.append(f"{r['row']} on {r['metric']} {level} "
                                f"({r['difference']:+.1f}, {ci(lo, hi)})")
    n = rows["row"].nunique()
    what = _join(list(metrics), "or")
    if not measured:
        return (f"None of the {n} rows differs measurably from {reference} on {what}: every "
                "interval includes 0.")
    return (f"Against {reference}, {len(measured)} interval(s) of the {n} rows exclude 0 on "
            f"{what}: {'; '.join(measured)}; every other interval includes 0.")


def benchmark_verdict(params: dict, compare: pd.DataFrame) -> str:
    """:func:`tables_conclusion` for a profile: its ablation detector with SR-TOD against that
    detector, beside the paper's gain on its main table (Tab. 1 on DroneSwarms and the embedded
    set, Tab. 2 / 3 on VisDrone / AI-TOD)."""
    from ..stages.params import ablation_detector, detector_of
    from ..stages.tables import main_table

    main = f"{ablation_detector(params)}_srtod"
    return tables_conclusion(compare, main, detector_of(params, main), main_table(params)[1])
