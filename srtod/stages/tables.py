"""The paper's tables from the pipeline's results: ours beside the paper's numbers.

Each table is a DataFrame (and a markdown + CSV file): one row per method, our metrics in percent
with one decimal, the paper's value in a ``paper <metric>`` column. Rows of experiments the active
profile did not run say so instead of showing a number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..paths import PREPARED, RESULTS, TABLES, run_dir
from .markdown import TITLES, compare_markdown, to_markdown
from .paper import ABLATION_METRICS, MAIN_TABLE, PAPER_ABLATIONS, PAPER_TAB1, TAB1_METRICS
from .params import (
    LONG_SUFFIX,
    ablation_detector,
    detector_of,
    experiment_config_path,
    experiment_parent,
    is_srtod,
    max_epochs,
    profile_groups,
    profile_runs,
    spec_is_srtod,
)

COMPARE_METRICS = ("AP", "AP50", "APvt", "APt", "ARvt")  # ARvt: recall of very tiny objects
def load_record(name: str, results: Path = RESULTS, profile: str | None = None) -> dict:
    """The evaluation record of run ``name`` (``{'enabled': False}`` if absent, or if made by
    another profile than ``profile``)."""
    path = run_dir("eval", name, results) / "metrics.json"
    if not path.is_file():
        return {"experiment": name, "enabled": False, "skipped": "not run in this profile"}
    record = json.loads(path.read_text())
    if profile is not None and record.get("profile", profile) != profile:
        return {"experiment": name, "enabled": False,
                "skipped": f"evaluated in profile {record['profile']!r}, not {profile!r}"}
    return record


def group_record(params: dict, name: str, results: Path = RESULTS) -> dict:
    """The record of experiment ``name`` with its metrics averaged over the seeds it ran
    (``seeds``: how many); as :func:`load_record` when it ran once or not at all."""
    runs = list(profile_groups(params["active"]).get(name, {}).values())
    records = [load_record(r, results, params["profile"]) for r in runs or [name]]
    done = [r for r in records if r.get("enabled")]
    if len(done) < 2:
        return dict(records[0], seeds=len(done))
    keys = [k for k, v in done[0]["metrics"].items() if isinstance(v, (int, float))]
    mean = {k: float(np.mean([r["metrics"][k] for r in done])) for k in keys}
    t = [r["final_t"] for r in done if r.get("final_t") is not None]
    return dict(done[0], experiment=name, metrics=mean, seeds=len(done),
                final_t=float(np.mean(t)) if t else None)


def _row(label: str, record: dict, metrics, paper) -> dict:
    row = {"method": label, "experiment": record.get("experiment"), "seeds": record.get("seeds")}
    if not record.get("enabled"):
        row["note"] = record.get("skipped", "not run")
    ours = record.get("metrics") or {}
    for i, m in enumerate(metrics):
        row[m] = ours.get(m) if record.get("enabled") else None
        row[f"paper {m}"] = paper[i] if paper else None
    if record.get("final_t") is not None:
        row["final t"] = record["final_t"]
    return row


def main_table(params: dict) -> tuple[str, dict]:
    """The main results table's key and paper values for the active data set: 'table1'
    (DroneSwarms and the synthetic set), 'table2' (VisDrone) or 'table3' (AI-TOD)."""
    return MAIN_TABLE.get(params["active"]["data"]["name"], ("table1", PAPER_TAB1))


def table1(params: dict, results: Path = RESULTS) -> pd.DataFrame:
    """Tab. 1 analog (Tab. 2 / 3 on VisDrone / AI-TOD): each detector's baseline, w/ SR-TOD and
    the improvement row, beside the paper's values for that data set."""
    paper_values = main_table(params)[1]
    rows = []
    by_detector: dict[str, dict[bool, str]] = {}
    for name, spec in params["experiments"].items():
        if spec.get("detector"):
            srtod = spec_is_srtod(spec)
            by_detector.setdefault(spec["detector"], {})[srtod] = name
    for detector, names in by_detector.items():
        paper = paper_values.get(detector, (None, None))
        base, ours = (group_record(params, names[x], results) for x in (False, True))
        rows.append(_row(detector, base, TAB1_METRICS, paper[0]))
        rows.append(_row(f"{detector} w/ SR-TOD", ours, TAB1_METRICS, paper[1]))
        delta = {"method": "  improvement", "experiment": None, "seeds": None}
        for i, m in enumerate(TAB1_METRICS):
            a, b = rows[-2][m], rows[-1][m]
            delta[m] = None if a is None or b is None else b - a
            delta[f"paper {m}"] = (None if paper[0] is None else
                                   round(paper[1][i] - paper[0][i], 1))
        rows.append(delta)
    return pd.DataFrame(rows)


def ablation_tables(params: dict, results: Path = RESULTS) -> dict[str, pd.DataFrame]:
    """Tab. 4-7 analogs on the profile's ablation detector."""
    det = ablation_detector(params)
    rows = {
        "table4": [("baseline", det), ("RH", "rh_only"), ("RH + DGFE", f"{det}_srtod")],
        "table5": [("w/o T", "thr_none"), ("fixed T", "thr_fixed"),
                   ("learnable T (paper)", f"{det}_srtod"), ("learnable T (STE, learns)", "thr_ste")],
        "table6": [("EM", "fusion_em"), ("Concat", "fusion_concat"), ("EA (DGFE)", f"{det}_srtod")],
        "table7": [("baseline", det), ("PD", f"{det}_srtod"), ("HFD", "diff_highfreq")],
    }
    return {key: pd.DataFrame([_row(label, group_record(params, name, results), ABLATION_METRICS,
                                    PAPER_ABLATIONS[key][label]) for label, name in spec])
            for key, spec in rows.items()}


def seed_table(params: dict, results: Path = RESULTS,
               metrics=("AP", "AP50", "APvt", "APt")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Experiments run over several seeds: per-run values (long) and mean, std, count per group."""
    long = []
    for group, runs in profile_groups(params["active"]).items():
        if len(runs) < 2:
            continue
        for seed, run in runs.items():
            record = load_record(run, results, params["profile"])
            if not record.get("enabled"):
                continue
            for m in metrics:
                long.append({"experiment": group, "run": run, "seed": seed,
                             "metric": m, "value": record["metrics"].get(m)})
    long_df = pd.DataFrame(long, columns=["experiment", "run", "seed", "metric", "value"])
    if long_df.empty:
        return long_df, pd.DataFrame()
    summary = (long_df.groupby(["experiment", "metric"], sort=False)["value"]
               .agg(["mean", "std", "count"]).reset_index())
    return long_df, summary


def reference_of(params: dict, group: str) -> str | None:
    """The experiment that ``group`` is compared with: its ``reference`` in ``params.yaml`` if it
    names one (``parent``: the experiment its config inherits), else, for a detector w/ SR-TOD
    (and every ablation of it), the same detector without SR-TOD. None for baselines and
    longer-schedule runs (``<run>_long``)."""
    ref = params["experiments"][group].get("reference")
    if ref:
        return experiment_parent(params, group) if ref == "parent" else ref
    config = experiment_config_path(params, group)
    if group.endswith(LONG_SUFFIX) or config is None or not is_srtod(config):
        return None
    detector = detector_of(params, group)
    for name, other in params["experiments"].items():
        if other.get("detector") == detector and not spec_is_srtod(other):
            return name
    return None


def _matches(run: str, results: Path, gt):
    from ..evaluation.bootstrap import match_images

    return match_images(gt, run_dir("eval", run, results) / "detections.json", "aitod")


def compare_table(params: dict, results: Path = RESULTS, metrics=COMPARE_METRICS,
                  n_boot: int = 1000, seed: int = 0,
                  ann_file: Path = PREPARED / "annotations" / "test.json") -> pd.DataFrame:
    """Each experiment against its reference (:func:`reference_of`), paired by seed
    (:func:`compare_runs`)."""
    profile = params["profile"]
    groups = profile_groups(params["active"])
    rows, cache = [], {}
    for group, runs in groups.items():
        ref = reference_of(params, group)
        if ref is None or ref not in groups:
            continue
        pairs = [(groups[ref][s], run) for s, run in runs.items() if s in groups[ref]]
        rows += compare_runs(group, ref, pairs, results, profile, metrics, n_boot, seed,
                             ann_file, cache)
    return pd.DataFrame(rows)


def compare_runs(group: str, ref: str, pairs: list[tuple[str, str]], results: Path = RESULTS,
                 profile: str | None = None, metrics=COMPARE_METRICS, n_boot: int = 1000,
                 seed: int = 0, ann_file: Path = PREPARED / "annotations" / "test.json",
                 cache: dict | None = None) -> list[dict]:
    """Rows of experiment ``group`` against ``ref`` over the (reference run, run) ``pairs`` that
    both have an evaluation record under ``results``.

    Per metric: mean and std over seeds of both, the mean paired difference, its seed-level
    t-interval and image-level paired-bootstrap interval (95%; :mod:`srtod.evaluation.paired`;
    only when every run of the pairs has its ``detections.json``), and in words whether each
    interval excludes 0. ``cache`` keeps the runs' image matches between calls.
    """
    from ..evaluation.inputs import load_ground_truth
    from ..evaluation.paired import (
        bootstrap_differences,
        percentile_interval,
        t_interval,
        verdict,
    )

    cache = {} if cache is None else cache
    done = []
    for ref_run, run in pairs:
        a, b = load_record(ref_run, results, profile), load_record(run, results, profile)
        if a.get("enabled") and b.get("enabled"):
            done.append((ref_run, run, a, b))
    if not done:
        return []
    boot = ann_file.is_file() and all((run_dir("eval", r, results) / "detections.json").is_file()
                                      for p in done for r in p[:2])
    if boot:
        gt = None
        for r in (x for p in done for x in p[:2]):
            if r not in cache:
                gt = gt or load_ground_truth(ann_file)
                cache[r] = _matches(r, results, gt)
    rows = []
    for m in metrics:
        base_v = np.array([p[2]["metrics"][m] for p in done], dtype=float)
        meth_v = np.array([p[3]["metrics"][m] for p in done], dtype=float)
        diff, t_lo, t_hi = t_interval(meth_v - base_v)
        b_lo = b_hi = float("nan")
        if boot:
            reps = bootstrap_differences([cache[p[0]] for p in done],
                                         [cache[p[1]] for p in done], m, n_boot, seed)
            b_lo, b_hi = percentile_interval(reps)
        rows.append({"experiment": group, "baseline": ref, "metric": m, "seeds": len(done),
                     "mean": meth_v.mean(), "std": _std(meth_v),
                     "baseline mean": base_v.mean(), "baseline std": _std(base_v),
                     "difference": diff, "t low": t_lo, "t high": t_hi,
                     "seed-level CI": verdict(t_lo, t_hi),
                     "bootstrap low": b_lo, "bootstrap high": b_hi,
                     "image-level CI": verdict(b_lo, b_hi), "replicates": n_boot if boot else 0})
    return rows


def _std(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) if len(x) > 1 else float("nan")


def recon_heads_table(params: dict, compare: pd.DataFrame,
                      results: Path = RESULTS) -> pd.DataFrame | None:
    """Baseline, SR-TOD with the paper's head and every head variant the profile trains (Tab. 4
    style): AP and APvt over seeds, the APvt difference to the paper's head with its seed-level
    t-interval (from ``compare``), and GFLOPs / time ratio from the cost stage, if it ran."""
    from .cost import head_variants

    variants = head_variants(params)
    if not variants:
        return None
    det = ablation_detector(params)
    cost_csv = results / "cost" / "recon_heads.csv"
    cost = pd.read_csv(cost_csv).set_index("experiment") if cost_csv.is_file() else None
    rows = []
    for name in (det, f"{det}_srtod", *variants):
        record = group_record(params, name, results)
        m = record.get("metrics") or {}
        row = {"experiment": name, "seeds": record.get("seeds", 0), "AP": m.get("AP"),
               "APvt": m.get("APvt")}
        hit = compare[(compare["experiment"] == name) & (compare["metric"] == "APvt")] \
            if len(compare) else compare
        if name in variants and len(hit):
            r = hit.iloc[0]
            row.update({"APvt vs paper head": r["difference"], "t low": r["t low"],
                        "t high": r["t high"], "verdict": r["seed-level CI"]})
        if cost is not None and name in cost.index:
            row.update(gflops=cost.loc[name, "gflops"], time_ratio=cost.loc[name, "time_ratio"])
        rows.append(row)
    return pd.DataFrame(rows)


def convergence_table(params: dict, results: Path = RESULTS,
                      reference: dict[str, dict] | None = None) -> pd.DataFrame:
    """Runs trained longer (``<run>_long``) against the same run on the normal schedule
    (same seed): test AP and APvt of both and the gain; converged when AP gains < 1 point.

    With several seeds, a last row per experiment gives the mean gain and its seed-level 95%
    t-interval (``AP gain low``/``high``); the verdict is then the mean's, and says whether the
    whole interval lies below 1. ``reference`` (``{run: metrics}``, e.g. a published
    ``all_metrics.json``) gives the normal-schedule runs' metrics instead of ``results``."""
    from ..evaluation.paired import t_interval

    rows = []
    groups = profile_groups(params["active"])
    for group, runs in groups.items():
        base = group[: -len(LONG_SUFFIX)]
        if not group.endswith(LONG_SUFFIX) or base not in groups:
            continue
        epochs = {name: max_epochs(params, name) for name in (base, group)}
        pairs = []
        for seed, run in runs.items():
            short_run = groups[base].get(seed)
            if reference is not None:
                short = {"enabled": True, "metrics": reference[short_run]} \
                    if short_run in reference else {}
            else:
                short = load_record(short_run, results, params["profile"]) if short_run else {}
            long = load_record(run, results, params["profile"])
            if not (short.get("enabled") and long.get("enabled")):
                continue
            row = {"experiment": base, "seed": seed, "epochs": epochs[base],
                   "longer epochs": epochs[group]}
            for m in ("AP", "APvt"):
                row[m] = short["metrics"][m]
                row[f"{m} longer"] = long["metrics"][m]
                row[f"{m} gain"] = long["metrics"][m] - short["metrics"][m]
            row["converged (AP gain < 1)"] = "yes" if row["AP gain"] < 1 else "no"
            pairs.append(row)
        rows += pairs
        if len(pairs) > 1:
            mean = {"experiment": base, "seed": f"mean of {len(pairs)}", "epochs": epochs[base],
                    "longer epochs": epochs[group]}
            for m in ("AP", "APvt"):
                for key in (m, f"{m} longer"):
                    mean[key] = float(np.mean([p[key] for p in pairs]))
                mean[f"{m} gain"], mean[f"{m} gain low"], mean[f"{m} gain high"] = \
                    t_interval([p[f"{m} gain"] for p in pairs])
            mean["converged (AP gain < 1)"] = (
                "no" if mean["AP gain"] >= 1 else
                "yes (CI below 1)" if mean["AP gain high"] < 1 else "yes (mean; CI reaches 1)")
            rows.append(mean)
    df = pd.DataFrame(rows)
    verdict = "converged (AP gain < 1)"
    return df[[c for c in df.columns if c != verdict] + [verdict]] if len(df) else df


def per_class_table(params: dict, results: Path = RESULTS,
                    metrics=("AP", "AP50", "APvt", "APt")) -> pd.DataFrame:
    """AP per class (the names of the data set's json), mean over each experiment's seeds; empty
    for a one-class data set, whose per-class AP is the main table's."""
    rows = []
    for group, runs in profile_groups(params["active"]).items():
        records = [load_record(r, results, params["profile"]) for r in runs.values()]
        done = [r for r in records if r.get("enabled") and r.get("per_class")]
        if not done or len(done[0]["per_class"]) < 2:
            continue
        for name in done[0]["per_class"]:
            row = {"experiment": group, "class": name, "seeds": len(done)}
            for m in metrics:
                values = [r["per_class"].get(name, {}).get(m) for r in done]
                values = [v for v in values if v is not None and not math.isnan(v)]
                row[m] = float(np.mean(values)) if values else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)


def runs_table(params: dict, results: Path = RESULTS) -> pd.DataFrame:
    """One row per run of the profile: seed, epochs, iterations, training seconds, AP, APvt."""
    rows = []
    for run in profile_runs(params["active"]):
        path = run_dir("train", run, results) / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        record = load_record(run, results, params["profile"])
        metrics = record.get("metrics") or {}
        rows.append({"run": run, "seed": summary.get("seed"),
                     "epochs": summary.get("max_epochs"), "iterations": summary.get("iterations"),
                     "train s": summary.get("train_seconds"),
                     "step s (all sittings)": summary.get("step_seconds"),
                     "threads": summary.get("threads"),
                     "AP": metrics.get("AP"), "APvt": metrics.get("APvt"),
                     "s/image (test)": record.get("seconds_per_image"),
                     **_rec_share(run_dir("train", run, results) / "curves.csv")})
    return pd.DataFrame(rows)


def _rec_share(curves_csv: Path) -> dict[str, float]:
    """Share of the total training loss that is the reconstruction loss, in percent, over the
    first and the last epoch (is ``loss_rec`` out of balance with the detection losses?)."""
    if not curves_csv.is_file():
        return {}
    df = pd.read_csv(curves_csv)
    if "loss_rec" not in df or df["loss_rec"].isna().all() or "epoch" not in df:
        return {}
    first, last = df[df["epoch"] == df["epoch"].min()], df[df["epoch"] == df["epoch"].max()]
    return {"loss_rec % (first epoch)": 100 * first["loss_rec"].mean() / first["loss"].mean(),
            "loss_rec % (last epoch)": 100 * last["loss_rec"].mean() / last["loss"].mean()}


def write_tables(params: dict, results: Path = RESULTS, out: Path = TABLES,
                 n_boot: int = 1000) -> dict[str, pd.DataFrame]:
    """Write every table as markdown and CSV, plus ``headline.json`` (DVC metrics)."""
    out.mkdir(parents=True, exist_ok=True)
    main_key = main_table(params)[0]
    tables = {main_key: table1(params, results), **ablation_tables(params, results)}
    long, summary = seed_table(params, results)
    tables["seeds"] = summary
    tables["convergence"] = convergence_table(params, results)
    tables["runs"] = runs_table(params, results)
    per_class = per_class_table(params, results)
    if not per_class.empty:
        tables["per_class"] = per_class
    long.to_csv(out / "seeds_runs.csv", index=False)
    for key, df in tables.items():
        df.to_csv(out / f"{key}.csv", index=False)
        (out / f"{key}.md").write_text(to_markdown(df, TITLES[key]))
    tables["compare"] = compare = compare_table(params, results, n_boot=n_boot)
    compare.to_csv(out / "compare.csv", index=False)
    (out / "compare.md").write_text(compare_markdown(compare))
    heads = recon_heads_table(params, compare, results)
    if heads is not None:
        tables["recon_heads"] = heads
        heads.to_csv(out / "recon_heads.csv", index=False)
        (out / "recon_heads.md").write_text(to_markdown(heads, TITLES["recon_heads"]))
    headline = {}
    for _, row in tables[main_key].iterrows():
        if isinstance(row["experiment"], str) and not pd.isna(row.get("AP")):
            headline[row["experiment"]] = {m: round(float(row[m]), 2) for m in TAB1_METRICS
                                           if row[m] is not None and not pd.isna(row[m])}
    (out / "headline.json").write_text(json.dumps(headline, indent=2) + "\n")
    every = {}
    for name in profile_runs(params["active"]):
        record = load_record(name, results, params["profile"])
        if record.get("enabled"):
            every[name] = {k: round(v, 2) for k, v in record["metrics"].items()
                           if isinstance(v, (int, float)) and not math.isnan(v)}
            if record.get("final_t") is not None:
                every[name]["final_t"] = round(record["final_t"], 5)
    (out / "all_metrics.json").write_text(json.dumps(every, indent=2) + "\n")
    cost = results / "cost" / "cost.md"
    if cost.is_file():
        (out / "cost.md").write_text(cost.read_text())
    return tables
