"""The threshold study (profile ``study``): committed run records and the tables built from them.

A run of 60 epochs takes 25-55 min of one core, so the study's 21 runs span several sittings and
machines. Each finished run leaves a **record** in ``docs/results/threshold_study/records/<run>.npz``
(:func:`write_record`): its evaluation record (metrics, D_b's coverage, final t), its training
summary (time, threads, commit; provenance for runs trained since it was recorded) and its test
detections, losslessly (float32, as the detector returns them), so that the image-level bootstrap
can pair it with any other run later. :func:`materialize` turns records back into the
``results/{train,eval}/<run>`` layout the tables read, and :func:`study_tables` compares the rows
with their references, seed by seed, and pools the references' runs over every source.

The rows were fixed before any ran; every one is reported, with "k of 3 seeds" until
complete. References: the baseline and SR-TOD (t = 40/255) of each :data:`SOURCES` entry: as
trained for this study (records, with detections: both intervals), and as published by the
60-epoch default at 79d673f (a frozen copy of its ``all_metrics.json``: metrics only, so the
seed-level interval alone). Which machine trained each run: :data:`MACHINES` (inferred from the
sittings), a run's own provenance, or its source's machine; every comparison says whether its runs
share one.
"""

from __future__ import annotations

import io
import json
import logging
import math
import platform
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.cocoio import dump_json
from ..paths import PREPARED, RESULTS, ROOT, repo_commit, run_dir, study_records
from .params import profile_groups
from .tables import COMPARE_METRICS, compare_runs, load_record

#: (label, experiment, what changes from the published SR-TOD default), fixed before any ran
ROWS = (
    ("RH only (Tab. 4's middle row)", "rh_only", "no DGFE"),
    ("SR-TOD, t measured, fixed", "thr_measured", "t"),
    ("SR-TOD, adaptive t (per-image quantile of D)", "thr_quantile", "t follows D"),
    ("SR-TOD, straight-through learned t", "thr_ste", "t learns"),
    ("SR-TOD, no threshold (D used directly)", "thr_none", "no binarization"),
)
#: (label, experiment) of the references, run by every source
REFERENCES = (("baseline", "faster_rcnn"), ("SR-TOD t = 40/255", "faster_rcnn_srtod"))
STUDY_DIR = ROOT / "docs" / "results" / "threshold_study"
#: which machine trained each of the study's runs, inferred from the sittings (``run, machine,
#: sitting, evidence``; docs/results/threshold_study/README.md says how)
MACHINES = STUDY_DIR / "machines.csv"


@dataclass(frozen=True)
class Source:
    """Where a set of reference runs comes from.

    ``label`` names it in the tables; ``prefix`` starts its runs' names once materialized;
    ``folder`` holds a published default's ``all_metrics.json`` (and ``runs.csv``,
    ``provenance.json`` when kept), None for the study's own records; ``machine`` is the machine
    that trained all its runs, for runs whose provenance does not name one, and ``machine_note``
    says what it is; ``pooled``: its runs enter the pooled references."""

    label: str
    prefix: str
    folder: Path | None = None
    machine: str | None = None
    machine_note: str = ""
    pooled: bool = True


#: the sources of the references; a published default joins the study with one more entry (a
#: frozen copy of its docs/results/default files in a folder of its own, and a prefix)
SOURCES = (
    Source("this study", ""),
    Source("published 79d673f", "published_", STUDY_DIR / "published_79d673f", machine="P",
           machine_note="the machine that trained the default published at 79d673f (one make "
                        "repro, 2026-11-27)"),
)
PUBLISHED_PREFIX = SOURCES[1].prefix
#: the compared metrics: the benchmark's, and AP75 beside AP50 (a change of AP that AP50 does not
#: show is one of localization, not of drones found)
STUDY_METRICS = (*COMPARE_METRICS[:2], "AP75", *COMPARE_METRICS[2:])
#: where the detections changed: size buckets and score thresholds (IoU 0.5)
CHANGE_BUCKETS, CHANGE_SCORES = ("vt", "t"), (0.05, 0.3, 0.5)
DETECTION_ARRAYS = ("image_id", "category_id", "bbox", "score")
log = logging.getLogger(__name__)


def _machine() -> dict[str, Any]:
    from ..provenance import machine_id

    return {"id": machine_id(), "node": platform.node(), "python": platform.python_version()}


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_record(run: str, results: Path = RESULTS, out: Path | None = None,
                 ann_file: Path = PREPARED / "annotations" / "test.json") -> Path:
    """Record evaluated run ``run`` (``results/eval/<run>`` and ``results/train/<run>``) as
    ``<out>/<run>.npz``, with the hash of the test annotations it was scored on (``ann_file``);
    an existing record of the same content is left untouched."""
    out = study_records() if out is None else Path(out)
    metrics = json.loads((run_dir("eval", run, results) / "metrics.json").read_text())
    if not metrics.get("enabled"):
        raise ValueError(f"{run}: not evaluated ({metrics.get('skipped', 'no metrics')})")
    train_file = run_dir("train", run, results) / "summary.json"
    train = json.loads(train_file.read_text()) if train_file.is_file() else {}
    dets = json.loads((run_dir("eval", run, results) / "detections.json").read_text())
    arrays = {
        "image_id": np.array([d["image_id"] for d in dets], dtype=np.int64),
        "category_id": np.array([d["category_id"] for d in dets], dtype=np.int64),
        "bbox": np.array([d["bbox"] for d in dets], dtype=np.float32).reshape(-1, 4),
        "score": np.array([d["score"] for d in dets], dtype=np.float32),
    }
    for key in ("bbox", "score"):  # float32 is lossless for mmdet's float32 outputs only
        original = np.array([d[key] for d in dets], dtype=np.float64).reshape(arrays[key].shape)
        if not np.array_equal(arrays[key].astype(np.float64), original):
            raise ValueError(f"{run}: detections are not float32 values; the record would lose "
                             "precision")
    record = {"run": run, "eval": metrics, "train": train,
              "test_annotations_sha256": file_sha256(ann_file) if Path(ann_file).is_file()
              else None}
    path = out / f"{run}.npz"
    if path.is_file():
        old = read_record(path)
        if old["record"]["eval"] == json.loads(json.dumps(metrics)) and all(
                np.array_equal(old[k], arrays[k]) for k in DETECTION_ARRAYS):
            return path
    record["recorded"] = {"machine": _machine(), "commit": repo_commit()}
    out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, record=np.array(json.dumps(record)), **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def read_record(path: Path) -> dict[str, Any]:
    """A record as ``{'record': dict, 'image_id', 'category_id', 'bbox', 'score'}``."""
    with np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in DETECTION_ARRAYS}
        out["record"] = json.loads(str(data["record"]))
    return out


def materialize(records: Path, results: Path) -> list[str]:
    """Write every record of ``records`` as ``results/eval/<run>/{metrics,detections}.json`` and
    ``results/train/<run>/summary.json``; returns the runs, sorted."""
    runs = []
    for path in sorted(Path(records).glob("*.npz")):
        rec = read_record(path)
        run = rec["record"]["run"]
        dets = [{"image_id": int(i), "category_id": int(c), "bbox": [float(v) for v in b],
                 "score": float(s)}
                for i, c, b, s in zip(rec["image_id"], rec["category_id"], rec["bbox"],
                                      rec["score"], strict=True)]
        eval_dir = run_dir("eval", run, results)
        eval_dir.mkdir(parents=True, exist_ok=True)
        dump_json(rec["record"]["eval"], eval_dir / "metrics.json", indent=2)
        (eval_dir / "detections.json").write_text(json.dumps(dets))
        if rec["record"]["train"]:
            dump_json(rec["record"]["train"], run_dir("train", run, results) / "summary.json",
                      indent=2)
        runs.append(run)
    return runs


def materialize_source(results: Path, source: Source) -> list[str]:
    """A published source's runs as metrics-only records ``<prefix><run>`` (no detections: the
    comparisons with them have the seed-level interval only), with a training summary from its
    ``runs.csv`` (seed, threads, times) and the machine its ``provenance.json`` names per run,
    when kept."""
    folder = Path(source.folder)
    table = (pd.read_csv(folder / "runs.csv").set_index("run") if (folder / "runs.csv").is_file()
             else pd.DataFrame())
    prov = folder / "provenance.json"
    trained = (json.loads(prov.read_text()).get("trained") or {}) if prov.is_file() else {}
    runs = []
    for run, metrics in json.loads((folder / "all_metrics.json").read_text()).items():
        name = source.prefix + run
        final_t = metrics.pop("final_t", None)
        dump_json({"experiment": name, "enabled": True, "metrics": metrics, "final_t": final_t},
                  run_dir("eval", name, results) / "metrics.json", indent=2)
        summary: dict[str, Any] = {"experiment": name}
        if run in table.index:
            row = table.loc[run]
            summary.update({k: kind(row[c]) for k, c, kind in (
                ("seed", "seed", int), ("threads", "threads", int),
                ("train_seconds", "train s", float),
                ("step_seconds", "step s (all sittings)", float)) if c in row and pd.notna(row[c])})
        if (trained.get(run) or {}).get("machine"):
            summary["machine"] = trained[run]["machine"]
        dump_json(summary, run_dir("train", name, results) / "summary.json", indent=2)
        runs.append(name)
    return runs


def run_machines(runs: list[str], results: Path, sources=SOURCES,
                 machines: Path = MACHINES) -> pd.DataFrame:
    """Per run: the machine that trained it (``machines``' inferred label, else the machine its
    training summary names, else its source's), its threads and where the machine came from."""
    known = (pd.read_csv(machines).set_index("run")["machine"].to_dict()
             if Path(machines).is_file() else {})
    by_prefix = sorted(sources, key=lambda src: -len(src.prefix))
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
    from ..evaluation.paired import verdict

    words = verdict(low, high)
    return (words.replace("includes 0)", f"includes 0; width {high - low:.1f})")
            if "includes 0" in words else words)


def pooled_references(results: Path, labels: dict[str, str], seeds: int = 3,
                      sources=SOURCES, metrics=STUDY_METRICS) -> pd.DataFrame:
    """SR-TOD at 40/255 minus the baseline over the runs of every pooled source (unpaired: a
    seed's pairing holds on one machine only): per metric, each reference's runs, mean ± std
    and machines, and the difference of means with Welch's 95% interval over runs."""
    (_, base_exp), (_, srtod_exp) = REFERENCES
    done = {}
    for exp in (base_exp, srtod_exp):
        runs = [src.prefix + r for src in sources if src.pooled
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


def study_tables(results: Path, n_boot: int = 1000, seeds: int = 3,
                 ann_file: Path = PREPARED / "annotations" / "test.json",
                 metrics=STUDY_METRICS, sources=SOURCES,
                 machines: Path = MACHINES) -> dict[str, pd.DataFrame]:
    """The study from ``results`` (materialized records, plus each published source's runs):

    * ``rows``: per row and reference run, seeds done ("k of 3"), mean ± std of each metric, the
      machine of each seed's run;
    * ``compare``: each row minus each reference, paired by seed, both intervals; and SR-TOD at
      40/255 minus the baseline of the same source (the default benchmark's comparison, on the
      study's own runs with both intervals); each with the machines of its seed pairs
      (``machines``: row/reference per seed) and how many pairs share a machine;
    * ``pooled``: SR-TOD at 40/255 minus the baseline over every pooled source's runs, Welch's
      interval (:func:`pooled_references`);
    * ``coverage``: D_b's coverage and final t per row;
    * ``detection_changes``: drones hit and false positives of each row and of SR-TOD at 40/255
      against the study's baseline, seed by seed (:func:`detection_changes`);
    * ``run_machines``: the machine and threads of every run (:func:`run_machines`).
    """
    rows, compare, coverage, cache = [], [], [], {}
    own_source = next(src for src in sources if not src.prefix)
    labelled = [(label, exp, change, None) for label, exp, change in ROWS] + [
        (f"{label} ({src.label})", src.prefix + exp, "reference", src)
        for label, exp in REFERENCES for src in sources]
    every = [r for _, exp, _, _ in labelled for r in _seed_runs(exp, seeds).values()]
    which = run_machines(every, results, sources, machines)
    which = which[[load_record(r, results).get("enabled", False) for r in which["run"]]]
    labels = _labels(which)
    (base_label, base_exp), (_, srtod_exp) = REFERENCES
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
            refs = [(rl, r, src) for rl, r in REFERENCES for src in sources]
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
    changed = [(label, exp) for label, exp, _ in ROWS] + [
        (f"{REFERENCES[1][0]} ({own_source.label})", srtod_exp)]
    return {"rows": pd.DataFrame(rows), "compare": pd.DataFrame(compare),
            "pooled": pooled_references(results, labels, seeds, sources, metrics),
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


def _num(v, fmt="{:.1f}") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def machine_legend(which: pd.DataFrame, sources=SOURCES) -> str:
    """What each machine label of the tables stands for (``which``: the ``run_machines`` table)."""
    notes = {src.label: src.machine_note for src in sources}
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


def study_markdown(tables: dict[str, pd.DataFrame], metrics=STUDY_METRICS,
                   sources=SOURCES) -> str:
    """The study's tables as markdown, with the verdict of each interval in words and the
    machines of each comparison's runs."""
    rows, compare, coverage = tables["rows"], tables["compare"], tables["coverage"]
    out = ["### Threshold study: every row, test split (mean ± std over the seeds done)", ""]
    if "run_machines" in tables and not tables["run_machines"].empty:
        out += [machine_legend(tables["run_machines"], sources), ""]
    out += ["| row | changes | seeds | machines (by seed) | " + " | ".join(metrics) + " |",
            "|" + "|".join(" --- " for _ in range(4 + len(metrics))) + "|"]
    for _, r in rows.iterrows():
        cells = [f"{_num(r[m])} ± {_num(r[f'{m} std'])}" if not math.isnan(r[f"{m} std"])
                 else _num(r[m]) for m in metrics]
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
        seed_ci = "-" if math.isnan(r["t low"]) else f"[{r['t low']:+.1f}, {r['t high']:+.1f}]"
        img_ci = ("-" if math.isnan(r["bootstrap low"])
                  else f"[{r['bootstrap low']:+.1f}, {r['bootstrap high']:+.1f}]")
        out.append(f"| {r['row']} | {r['reference']} | {r['metric']} | {r['seeds']} | "
                   f"{r.get('machines', '')} ({r.get('same machine', '?')} shared) | "
                   f"{r['difference']:+.1f} | {seed_ci} | {img_ci} | {r['seed-level CI']} / "
                   f"{r['image-level CI']} |")
    pooled = tables.get("pooled")
    if pooled is not None and not pooled.empty:
        pooled_sources = ", ".join(src.label for src in sources if src.pooled)
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
            ci = ("-" if math.isnan(r["welch low"]) else
                  f"[{r['welch low']:+.1f}, {r['welch high']:+.1f}] (df {r['df']:.1f})")
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
        out += ["", "### Where the detections changed (row - baseline of this study, IoU 0.5)", "",
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


def study_figure(compare: pd.DataFrame, metrics=("AP", "APvt", "ARvt")):
    """The paired differences of every row to the references trained for the study (both
    intervals), one axis per metric (:func:`srtod.viz.plot_paired_differences`)."""
    from ..viz import plot_paired_differences

    if compare.empty:
        return plot_paired_differences(compare.reindex(columns=[
            "experiment", "metric", "difference", "t low", "t high", "bootstrap low",
            "bootstrap high"]))
    sub = compare[compare["reference"].str.endswith("(this study)")
                  & compare["metric"].isin(metrics)].copy()
    reference = sub["reference"].str.replace(" (this study)", "", regex=False)
    sub["experiment"] = (sub["row"] + "\nvs " + reference + " (" + sub["seeds"].astype(str)
                         + " seeds)")
    return plot_paired_differences(sub)


def study_ground_truth(records: Path, tmp: Path,
                       prepared: Path = PREPARED / "annotations" / "test.json") -> Path:
    """The test annotations the records were scored on: ``prepared`` when its hash is theirs,
    else the study profile's data generated anew under ``tmp`` (the synthetic set is
    deterministic). A path that does not exist when neither matches (no image-level intervals)."""
    from .params import load_params
    from .prepare import prepare_data

    wanted = {read_record(p)["record"].get("test_annotations_sha256")
              for p in Path(records).glob("*.npz")} - {None}
    if len(wanted) > 1:
        raise ValueError(f"{records}: the records were scored on {len(wanted)} different test "
                         "sets; the study pairs runs on the same images only")
    if not wanted or (prepared.is_file() and file_sha256(prepared) in wanted):
        return prepared
    params = load_params(profile="study")
    if params["active"]["data"]["name"] != "synthetic":
        return tmp / "missing.json"
    prepare_data(params, out=tmp / "prepared", results=tmp / "data")
    generated = tmp / "prepared" / "annotations" / "test.json"
    if file_sha256(generated) not in wanted:
        log.warning("the study profile's test set does not match the records' (hash): "
                    "no image-level intervals")
        return tmp / "missing.json"
    return generated


def build_study(out: Path, records: Path | None = None, n_boot: int = 1000,
                sources=SOURCES) -> dict[str, Any]:
    """Rebuild the study in ``out`` from every record (default: the committed ones) and the
    published sources' metrics: ``study.md``, a CSV per table of :func:`study_tables`,
    ``paired_differences.png`` and ``detection_changes.png``. Returns the tables, the markdown and
    the runs recorded."""
    import shutil
    import tempfile

    from ..viz import plot_detection_changes, save

    records = study_records() if records is None else Path(records)
    tmp = Path(tempfile.mkdtemp(prefix="srtod-study-"))
    try:
        runs = materialize(records, tmp)
        for source in sources:
            if source.folder is not None:
                materialize_source(tmp, source)
        tables = study_tables(tmp, n_boot=n_boot, ann_file=study_ground_truth(records, tmp),
                              sources=sources)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        df.to_csv(out / f"{key}.csv", index=False, float_format="%.4f")
    text = study_markdown(tables, sources=sources)
    (out / "study.md").write_text(text)
    save(study_figure(tables["compare"]), out / "paired_differences.png")
    if not tables["detection_changes"].empty:
        save(plot_detection_changes(tables["detection_changes"]), out / "detection_changes.png")
    return {"tables": tables, "markdown": text, "runs": runs}
