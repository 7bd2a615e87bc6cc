"""The study's tables: every row against every reference, paired by seed with both intervals;
the references pooled over their sources (Welch); D_b's coverage; where the detections changed;
which machine trained each run."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...paths import PREPARED, run_dir
from ..params import profile_groups
from ..tables import compare_runs, load_record
from .design import CHANGE_BUCKETS, CHANGE_SCORES, STUDY_METRICS, THRESHOLD_STUDY, Design


def run_machines(runs: list[str], results: Path,
                 design: Design = THRESHOLD_STUDY) -> pd.DataFrame:
    """Per run: the machine that trained it (the design's inferred ``machines`` label, else the
    machine its training summary names, else its source's), its threads and where the machine
    came from."""
    machines = design.machines
    known = (pd.read_csv(machines).set_index("run")["machine"].to_dict()
             if machines is not None and Path(machines).is_file() else {})
    by_prefix = sorted(design.sources, key=lambda src: -len(src.prefix))
    out = []
    for run in runs:
        source = next(src for src in by_prefix if run.startswith(src.prefix))
        path = run_dir("train", run, results) / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        named = summary.get("machine") or " + ".join(sorted(
            {s["machine_id"] for s in summary.get("provenance") or [] if s.get("machine_id")}))
        machine, origin = ((known[run], "inferred from the sittings") if run in known
                           else (named, "the run's provenance") if named
                           else (source.machine, "its source") if source.machine
                           else ("?", "unknown"))
        out.append({"run": run, "source": source.label, "machine": machine,
                    "threads": summary.get("threads"), "from": origin})
    return pd.DataFrame(out, columns=["run", "source", "machine", "threads", "from"])


def _labels(machines: pd.DataFrame) -> dict[str, str]:
    """Short machine labels per run for the tables: the machine (a long id from a provenance
    becomes M1, M2, ...), with ``+<n>t`` when the run trained with n > 1 threads."""
    short: dict[str, str] = {}
    for m in machines["machine"]:
        if m not in short:
            short[m] = m if len(m) <= 3 else f"M{sum(len(k) > 3 for k in short) + 1}"
    return {r.run: short[r.machine] + (f"+{int(r.threads)}t" if pd.notna(r.threads)
                                       and r.threads > 1 else "")
            for r in machines.itertuples()}


def welch_interval(x, y, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """(difference, low, high, df): mean(x) - mean(y) with Welch's t-interval (unequal
    variances, Welch-Satterthwaite degrees of freedom); NaN bounds with fewer than two values on
    a side, the point itself (df NaN) when neither side varies."""
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    diff = float(x.mean() - y.mean()) if x.size and y.size else float("nan")
    if x.size < 2 or y.size < 2:
        return diff, float("nan"), float("nan"), float("nan")
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if vx + vy == 0:  # no spread on either side: the interval is the point
        return diff, diff, diff, float("nan")
    df = (vx + vy) ** 2 / (vx ** 2 / (x.size - 1) + vy ** 2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(vx + vy))
    return diff, diff - half, diff + half, float(df)


def _verdict(low: float, high: float) -> str:
    """:func:`srtod.evaluation.paired.verdict`, with the interval's width when it includes 0."""
    from ...evaluation.paired import verdict

    words = verdict(low, high)
    return (words.replace("includes 0)", f"includes 0; width {high - low:.1f})")
            if "includes 0" in words else words)


def pooled_references(results: Path, labels: dict[str, str], seeds: int = 3,
                      design: Design = THRESHOLD_STUDY, metrics=STUDY_METRICS) -> pd.DataFrame:
    """SR-TOD at 40/255 minus the baseline over the runs of every pooled source (unpaired: a
    seed's pairing holds on one machine only): per metric, each reference's runs, mean ± std
    and machines, and the difference of means with Welch's 95% interval over runs."""
    (_, base_exp), (_, srtod_exp) = design.references
    done = {}
    for exp in (base_exp, srtod_exp):
        runs = [src.prefix + r for src in design.sources if src.pooled
                for r in _seed_runs(exp, seeds).values()]
        done[exp] = [(r, rec) for r, rec in ((r, load_record(r, results)) for r in runs)
                     if rec.get("enabled")]
    out = []
    for m in metrics:
        row: dict[str, Any] = {"metric": m}
        values = {}
        for side, exp in (("baseline", base_exp), ("SR-TOD", srtod_exp)):
            values[side] = np.array([rec["metrics"][m] for _, rec in done[exp]], dtype=float)
            v = values[side]
            row.update({f"{side} runs": v.size, f"{side} mean": v.mean() if v.size else np.nan,
                        f"{side} std": v.std(ddof=1) if v.size > 1 else np.nan,
                        f"{side} machines": ", ".join(
                            f"{k} x{n}" for k, n in Counter(labels.get(r, "?")
                                                             for r, _ in done[exp]).items())})
        diff, low, high, df = welch_interval(values["SR-TOD"], values["baseline"])
        row.update({"difference": diff, "welch low": low, "welch high": high, "df": df,
                    "width": high - low, "verdict": _verdict(low, high)})
        out.append(row)
    return pd.DataFrame(out)


def _seed_runs(experiment: str, n: int = 3) -> dict[int, str]:
    return profile_groups({"run": {experiment: n}})[experiment]


def coverage_row(records: list[dict]) -> dict[str, Any]:
    """D_b's coverage (percent, mean over the evaluation ``records`` that have it), final t
    (x 255) and the very tiny boxes counted (sqrt(w h) < 8 px)."""
    cov, ts, n_vt = [], [], None
    for rec in records:
        if rec.get("final_t") is not None:
            ts.append(255 * rec["final_t"])
        c = rec.get("coverage")
        if c:
            b = c["per_bucket"]
            n_vt = b["vt"].get("n_boxes", n_vt)
            cov.append({"background on %": 100 * c["background_share"],
                        "very tiny touched %": 100 * b["vt"]["touched_share"],
                        "tiny touched %": 100 * b["t"]["touched_share"],
                        "very tiny covered %": 100 * b["vt"]["mean_covered_share"]})
    row: dict[str, Any] = {k: float(np.mean([c[k] for c in cov])) for k in cov[0]} if cov else {}
    row["final t x 255"] = float(np.mean(ts)) if ts else float("nan")
    if n_vt is not None:
        row["very tiny boxes"] = n_vt
    return row


def study_tables(results: Path, design: Design = THRESHOLD_STUDY, n_boot: int = 1000,
                 seeds: int = 3, ann_file: Path = PREPARED / "annotations" / "test.json",
                 metrics=STUDY_METRICS) -> dict[str, pd.DataFrame]:
    """The ``design``'s study from ``results`` (materialized records, plus each published
    source's runs):

    * ``rows``: per row and reference run, seeds done ("k of 3"), mean ± std of each metric, the
      machine of each seed's run;
    * ``compare``: each row minus each reference, paired by seed, both intervals; and SR-TOD at
      40/255 minus the baseline of the same source (the default benchmark's comparison, on the
      study's own runs with both intervals); each with the machines of its seed pairs
      (row/reference per seed) and how many pairs share a machine;
    * ``pooled``: SR-TOD at 40/255 minus the baseline over every pooled source's runs, Welch's
      interval (:func:`pooled_references`);
    * ``coverage``: D_b's coverage and final t per row;
    * ``detection_changes``: drones hit and false positives of each row and of SR-TOD at 40/255
      against the study's baseline, seed by seed (:func:`detection_changes`);
    * ``run_machines``: the machine and threads of every run (:func:`run_machines`).
    """
    rows, compare, coverage, cache = [], [], [], {}
    sources, references = design.sources, design.references
    labelled = [(label, exp, change, None) for label, exp, change in design.rows] + [
        (f"{label} ({src.label})", src.prefix + exp, "reference", src)
        for label, exp in references for src in sources]
    every = [r for _, exp, _, _ in labelled for r in _seed_runs(exp, seeds).values()]
    which = run_machines(every, results, design)
    which = which[[load_record(r, results).get("enabled", False) for r in which["run"]]]
    labels = _labels(which)
    (base_label, base_exp), (_, srtod_exp) = references
    for label, exp, change, own in labelled:
        runs = _seed_runs(exp, seeds)
        done = [rec for rec in (load_record(r, results) for r in runs.values())
                if rec.get("enabled")]
        row = {"row": label, "experiment": exp, "changes": change,
               "seeds": f"{len(done)} of {seeds}",
               "machines": ", ".join(labels[r] for r in runs.values() if r in labels)}
        for m in metrics:
            values = np.array([rec["metrics"][m] for rec in done], dtype=float)
            row[m] = values.mean() if values.size else float("nan")
            row[f"{m} std"] = values.std(ddof=1) if values.size > 1 else float("nan")
        rows.append(row)
        coverage.append({"row": label, "seeds": row["seeds"], **coverage_row(done)})
        if own is None:  # a row: against every reference
            refs = [(rl, r, src) for rl, r in references for src in sources]
        elif exp == own.prefix + srtod_exp:  # SR-TOD at 40/255: against its source's baseline
            refs = [(base_label, base_exp, own)]
        else:
            continue
        for ref_label, ref, src in refs:
            ref_runs = {s: src.prefix + r for s, r in _seed_runs(ref, seeds).items()}
            pairs = [(ref_runs[s], runs[s]) for s in runs]
            shared = [(labels[b], labels[a]) for a, b in pairs if a in labels and b in labels]
            same = sum(x.split("+")[0] == y.split("+")[0] != "?" for x, y in shared)
            for r in compare_runs(exp, src.prefix + ref, pairs, results, None, metrics, n_boot,
                                  0, ann_file, cache):
                compare.append({"row": label, "reference": f"{ref_label} ({src.label})", **r,
                                "machines": ", ".join(f"{x}/{y}" for x, y in shared),
                                "same machine": f"{same} of {len(shared)}"})
    changed = [(label, exp) for label, exp, _ in design.rows] + [
        (f"{references[1][0]} ({design.own.label})", srtod_exp)]
    return {"rows": pd.DataFrame(rows), "compare": pd.DataFrame(compare),
            "pooled": pooled_references(results, labels, seeds, design, metrics),
            "coverage": pd.DataFrame(coverage),
            "detection_changes": detection_changes(changed, base_exp, seeds, cache, labels),
            "run_machines": which.assign(label=[labels[r] for r in which["run"]])}


def detection_changes(changed: list[tuple[str, str]], reference: str, seeds: int,
                      matches: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Where the detections changed: per (row, experiment) of ``changed``, seed, size bucket and
    score threshold, the ground truth hit at IoU 0.5 and the false positives of the row's run and
    of ``reference``'s run of the same seed (:meth:`ImageMatches.hits`), for the runs that
    ``matches`` holds (those with detections); with both runs' machines from ``labels``."""
    ref_runs, out, labels = _seed_runs(reference, seeds), [], labels or {}
    for label, exp in changed:
        for seed, run in _seed_runs(exp, seeds).items():
            ref = ref_runs.get(seed)
            if run not in matches or ref not in matches:
                continue
            for bucket in CHANGE_BUCKETS:
                mine = matches[run].hits(bucket, 0.5, CHANGE_SCORES)
                base = matches[ref].hits(bucket, 0.5, CHANGE_SCORES)
                for j, thr in enumerate(CHANGE_SCORES):
                    out.append({"row": label, "experiment": exp, "seed": seed, "bucket": bucket,
                                "score_thr": thr, "n_gt": int(mine["n_gt"][j]),
                                "hits": int(mine["tp"][j]), "false_positives": int(mine["fp"][j]),
                                "baseline hits": int(base["tp"][j]),
                                "baseline false_positives": int(base["fp"][j]),
                                "machine": labels.get(run, "?"),
                                "baseline machine": labels.get(ref, "?")})
    return pd.DataFrame(out, columns=["row", "experiment", "seed", "bucket", "score_thr", "n_gt",
                                      "hits", "false_positives", "baseline hits",
                                      "baseline false_positives", "machine", "baseline machine"])
