"""The study's run records: one ``.npz`` per finished run (its evaluation, training summary and
test detections, losslessly), written, read and turned back into the ``results/`` layout the
tables read."""

from __future__ import annotations

import io
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...data.cocoio import dump_json
from ...paths import PREPARED, RESULTS, repo_commit, run_dir, study_records
from ...provenance import file_sha256
from .design import Source

DETECTION_ARRAYS = ("image_id", "category_id", "bbox", "score")


def _machine() -> dict[str, Any]:
    from ...provenance import machine_id

    return {"id": machine_id(), "node": platform.node(), "python": platform.python_version()}


def write_record(run: str, results: Path = RESULTS, out: Path | None = None,
                 ann_file: Path = PREPARED / "annotations" / "test.json") -> Path:
    """Record evaluated run ``run`` (``results/eval/<run>`` and ``results/train/<run>``) as
    ``<out>/<run>.npz`` (default: the threshold study's records), with the hash of the test annotations it was scored on (``ann_file``);
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
