"""The threshold study (profile ``study``): committed run records and the tables built from them.

A run of 60 epochs takes 25-55 min of one core, so the study's 21 runs span several sittings and
machines. Each finished run leaves a **record** in ``docs/results/threshold_study/records/<run>.npz``
(:func:`write_record`): its evaluation record (metrics, D_b's coverage, final t), its training
summary (time, machine, commit) and its test detections, losslessly (float32, as the detector
returns them), so that the image-level bootstrap can pair it with any other run later.
:func:`materialize` turns records back into the ``results/{train,eval}/<run>`` layout the tables
read, and :func:`study_tables` compares the rows with their references, seed by seed.

The rows were fixed before any ran; every one is reported, with "k of 3 seeds" until
complete. References: the baseline and SR-TOD (t = 40/255) as trained for this study (records, with
detections: both intervals), and as published by the 60-epoch default
(``docs/results/default/all_metrics.json``: metrics only, so the seed-level interval alone).
"""

from __future__ import annotations

import io
import json
import logging
import math
import platform
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
#: (label, experiment) of the references; "published" ones read the default's published metrics
REFERENCES = (("baseline", "faster_rcnn"), ("SR-TOD t = 40/255", "faster_rcnn_srtod"))
PUBLISHED = ROOT / "docs" / "results" / "default" / "all_metrics.json"
PUBLISHED_PREFIX = "published_"
#: the compared metrics: the benchmark's, and AP75 beside AP50 (a change of AP that AP50 does not
#: show is one of localization, not of drones found)
STUDY_METRICS = (*COMPARE_METRICS[:2], "AP75", *COMPARE_METRICS[2:])
#: where the detections changed: size buckets and score thresholds (IoU 0.5)
CHANGE_BUCKETS, CHANGE_SCORES = ("vt", "t"), (0.05, 0.3, 0.5)
#: (source, run prefix) of the references
SOURCES = (("this study", ""), ("published", PUBLISHED_PREFIX))
DETECTION_ARRAYS = ("image_id", "category_id", "bbox", "score")
log = logging.getLogger(__name__)


def _machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"node": platform.node(), "cpu": cpu, "python": platform.python_version()}


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


def materialize_published(results: Path, published: Path = PUBLISHED) -> list[str]:
    """The published default's runs as metrics-only records ``published_<run>`` (no
    detections: the comparisons with them have the seed-level interval only)."""
    runs = []
    for run, metrics in json.loads(Path(published).read_text()).items():
        name = PUBLISHED_PREFIX + run
        final_t = metrics.pop("final_t", None)
        dump_json({"experiment": name, "enabled": True, "metrics": metrics, "final_t": final_t},
                  run_dir("eval", name, results) / "metrics.json", indent=2)
        runs.append(name)
    return runs


def _seed_runs(experiment: str, n: int = 3) -> dict[int, str]:
    return profile_groups({"run": {experiment: n}})[experiment]


def coverage_row(records: list[dict]) -> dict[str, Any]:
    """D_b's coverage (percent, mean over the evaluation ``records`` that have it) and final t
    (x 255)."""
    cov, ts = [], []
    for rec in records:
        if rec.get("final_t") is not None:
            ts.append(255 * rec["final_t"])
        c = rec.get("coverage")
        if c:
            b = c["per_bucket"]
            cov.append({"background on %": 100 * c["background_share"],
                        "very tiny touched %": 100 * b["vt"]["touched_share"],
                        "tiny touched %": 100 * b["t"]["touched_share"],
                        "very tiny covered %": 100 * b["vt"]["mean_covered_share"]})
    row: dict[str, Any] = {k: float(np.mean([c[k] for c in cov])) for k in cov[0]} if cov else {}
    row["final t x 255"] = float(np.mean(ts)) if ts else float("nan")
    return row


def study_tables(results: Path, n_boot: int = 1000, seeds: int = 3,
                 ann_file: Path = PREPARED / "annotations" / "test.json",
                 metrics=STUDY_METRICS) -> dict[str, pd.DataFrame]:
    """The study from ``results`` (materialized records, plus ``published_*`` runs):

    * ``rows``: per row and reference run, seeds done ("k of 3"), mean ± std of each metric;
    * ``compare``: each row minus each reference, paired by seed, both intervals; and SR-TOD at
      40/255 minus the baseline of the same source (the default benchmark's comparison, on the
      study's own runs with both intervals);
    * ``coverage``: D_b's coverage and final t per row;
    * ``detection_changes``: drones hit and false positives of each row and of SR-TOD at 40/255
      against the study's baseline, seed by seed (:func:`detection_changes`).
    """
    rows, compare, coverage, cache = [], [], [], {}
    labelled = [(label, exp, change, None) for label, exp, change in ROWS] + [
        (f"{label} ({source})", prefix + exp, "reference", (source, prefix))
        for label, exp in REFERENCES for source, prefix in SOURCES]
    (base_label, base_exp), (_, srtod_exp) = REFERENCES
    for label, exp, change, own in labelled:
        runs = _seed_runs(exp, seeds)
        done = [rec for rec in (load_record(r, results) for r in runs.values())
                if rec.get("enabled")]
        row = {"row": label, "experiment": exp, "changes": change,
               "seeds": f"{len(done)} of {seeds}"}
        for m in metrics:
            values = np.array([rec["metrics"][m] for rec in done], dtype=float)
            row[m] = values.mean() if values.size else float("nan")
            row[f"{m} std"] = values.std(ddof=1) if values.size > 1 else float("nan")
        rows.append(row)
        coverage.append({"row": label, "seeds": row["seeds"], **coverage_row(done)})
        if own is None:  # a row: against every reference
            refs = [(rl, r, *src) for rl, r in REFERENCES for src in SOURCES]
        elif exp == own[1] + srtod_exp:  # SR-TOD at 40/255: against its source's baseline
            refs = [(base_label, base_exp, *own)]
        else:
            continue
        for ref_label, ref, source, prefix in refs:
            ref_runs = {s: prefix + r for s, r in _seed_runs(ref, seeds).items()}
            pairs = [(ref_runs[s], runs[s]) for s in runs]
            for r in compare_runs(exp, prefix + ref, pairs, results, None, metrics, n_boot,
                                  0, ann_file, cache):
                compare.append({"row": label, "reference": f"{ref_label} ({source})", **r})
    changed = [(label, exp) for label, exp, _ in ROWS] + [(f"{REFERENCES[1][0]} (this study)",
                                                          srtod_exp)]
    return {"rows": pd.DataFrame(rows), "compare": pd.DataFrame(compare),
            "coverage": pd.DataFrame(coverage),
            "detection_changes": detection_changes(changed, base_exp, seeds, cache)}


def detection_changes(changed: list[tuple[str, str]], reference: str, seeds: int,
                      matches: dict) -> pd.DataFrame:
    """Where the detections changed: per (row, experiment) of ``changed``, seed, size bucket and
    score threshold, the ground truth hit at IoU 0.5 and the false positives of the row's run and
    of ``reference``'s run of the same seed (:meth:`ImageMatches.hits`), for the runs that
    ``matches`` holds (those with detections)."""
    ref_runs, out = _seed_runs(reference, seeds), []
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
                                "baseline false_positives": int(base["fp"][j])})
    return pd.DataFrame(out, columns=["row", "experiment", "seed", "bucket", "score_thr", "n_gt",
                                      "hits", "false_positives", "baseline hits",
                                      "baseline false_positives"])


def _num(v, fmt="{:.1f}") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def study_markdown(tables: dict[str, pd.DataFrame], metrics=STUDY_METRICS) -> str:
    """The study's three tables as markdown, with the verdict of each interval in words."""
    rows, compare, coverage = tables["rows"], tables["compare"], tables["coverage"]
    out = ["### Threshold study: every row, test split (mean ± std over the seeds done)", "",
           "| row | changes | seeds | " + " | ".join(metrics) + " |",
           "|" + "|".join(" --- " for _ in range(3 + len(metrics))) + "|"]
    for _, r in rows.iterrows():
        cells = [f"{_num(r[m])} ± {_num(r[f'{m} std'])}" if not math.isnan(r[f"{m} std"])
                 else _num(r[m]) for m in metrics]
        out.append(f"| {r['row']} | {r['changes']} | {r['seeds']} | " + " | ".join(cells) + " |")
    out += ["", "### Paired differences (row - reference, by seed; 95% intervals)", "",
            "Seed-level: Student's t over the per-seed differences (needs 2 seeds); image-level: "
            "paired bootstrap over the test images (needs every run's detections: the published "
            "runs have none).", "",
            "| row | reference | metric | seeds | difference | seed-level CI | image-level CI | "
            "verdict (seed / image) |", "|" + "|".join(" --- " for _ in range(8)) + "|"]
    for _, r in compare.iterrows():
        seed_ci = "-" if math.isnan(r["t low"]) else f"[{r['t low']:+.1f}, {r['t high']:+.1f}]"
        img_ci = ("-" if math.isnan(r["bootstrap low"])
                  else f"[{r['bootstrap low']:+.1f}, {r['bootstrap high']:+.1f}]")
        out.append(f"| {r['row']} | {r['reference']} | {r['metric']} | {r['seeds']} | "
                   f"{r['difference']:+.1f} | {seed_ci} | {img_ci} | {r['seed-level CI']} / "
                   f"{r['image-level CI']} |")
    cols = ["background on %", "very tiny touched %", "tiny touched %", "very tiny covered %",
            "final t x 255"]
    out += ["", "### What D_b switches on (test split, mean over seeds) and the final t", "",
            "| row | seeds | " + " | ".join(cols) + " |",
            "|" + "|".join(" --- " for _ in range(2 + len(cols))) + "|"]
    for _, r in coverage.iterrows():
        cells = [_num(r.get(c), "{:.2f}") for c in cols]
        out.append(f"| {r['row']} | {r['seeds']} | " + " | ".join(cells) + " |")
    changes = tables.get("detection_changes")
    if changes is not None and not changes.empty:
        out += ["", "### Where the detections changed (row - baseline of this study, IoU 0.5)", "",
                "Hits: test drones of the bucket matched by a detection scoring at least the "
                "threshold; false positives: such detections of the bucket's size that match "
                "nothing. Per seed (0, 1, 2), then the sum.", "",
                "| row | bucket | score >= | drones | hits gained | false positives added |",
                "|" + "|".join(" --- " for _ in range(6)) + "|"]
        for (row, bucket, thr), g in changes.groupby(["row", "bucket", "score_thr"], sort=False):
            dh = (g["hits"] - g["baseline hits"]).tolist()
            df = (g["false_positives"] - g["baseline false_positives"]).tolist()
            out.append(f"| {row} | {bucket} | {thr:g} | {g['n_gt'].iloc[0]} | "
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


def build_study(out: Path, records: Path | None = None, n_boot: int = 1000) -> dict[str, Any]:
    """Rebuild the study in ``out`` from every record (default: the committed ones) and the
    published default's metrics: ``study.md``, ``rows.csv``, ``compare.csv``, ``coverage.csv``,
    ``paired_differences.png``. Returns the tables, the markdown and the runs recorded."""
    import shutil
    import tempfile

    from ..viz import plot_detection_changes, save

    records = study_records() if records is None else Path(records)
    tmp = Path(tempfile.mkdtemp(prefix="srtod-study-"))
    try:
        runs = materialize(records, tmp)
        materialize_published(tmp)
        tables = study_tables(tmp, n_boot=n_boot, ann_file=study_ground_truth(records, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        df.to_csv(out / f"{key}.csv", index=False, float_format="%.4f")
    text = study_markdown(tables)
    (out / "study.md").write_text(text)
    save(study_figure(tables["compare"]), out / "paired_differences.png")
    if not tables["detection_changes"].empty:
        save(plot_detection_changes(tables["detection_changes"]), out / "detection_changes.png")
    return {"tables": tables, "markdown": text, "runs": runs}
