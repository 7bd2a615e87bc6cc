"""The pipeline's stages as functions: prepare data, train one experiment, evaluate one experiment.

Each notebook in ``notebooks/`` is a thin call to one of these. Paths come from :mod:`srtod.paths`;
every stage writes small JSON/CSV files that the tables and figures stages read.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.catalog import SPLITS
from ..paths import PREPARED, RAW_DATA, RESULTS, ROOT, WORK_DIRS, run_dir, work_dir
from .params import Experiment, profile_runs, resolve_experiment

log = logging.getLogger(__name__)
COVERAGE_COLUMNS = {"touched_share": "touched", "mean_covered_share": "covered",
                    "background_share": "background"}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ----------------------------------------------------------------------------------------- prepare
def prepare_data(params: dict, out: Path = PREPARED, results: Path = RESULTS / "data") -> dict:
    """Make ``data/prepared/{images,annotations}`` for the active profile, validated.

    ``synthetic``: generate the embedded data set. A real data set (``data/raw/<name>/``): validate
    every split; the (fixed) annotations are written to ``data/prepared/annotations`` and
    ``data/prepared/images`` links to the raw images. Writes the validation report and statistics.
    """
    from ..data.stats import object_table, split_stats
    from ..data.validate import validate_coco

    data = params["active"]["data"]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if data["name"] == "synthetic":
        from ..data.synthetic import generate_dataset

        summary = generate_dataset(out, num_images=data["num_images"], image_size=data["image_size"],
                                   seed=data["seed"])
    else:
        raw = Path(data["root"]) if data.get("root") else RAW_DATA / data["name"]
        raw = raw if raw.is_absolute() else ROOT / raw
        missing = [s for s in SPLITS if not (raw / "annotations" / f"{s}.json").is_file()]
        if missing:
            raise FileNotFoundError(
                f"data set {data['name']!r}: {raw}/annotations/ lacks {missing}; see "
                "srtod/data/README.md for the expected layout (VisDrone: `python -m srtod convert`)")
        (out / "images").symlink_to((raw / "images").resolve(), target_is_directory=True)
        summary = {"out_dir": str(out), "source": str(raw)}
    reports = {}
    for split in SPLITS:
        ann = out / "annotations" / f"{split}.json"
        source = ann if data["name"] == "synthetic" else raw / "annotations" / f"{split}.json"
        fixed = out / "annotations" / f"{split}.fixed.json"
        report = validate_coco(source, out / "images" / split, out_json=fixed, fix=True,
                               verbose=False)
        if fixed.exists():
            fixed.replace(ann)
        reports[split] = report.to_dict()
        print(report.summary(max_lines=5))
    files = {s: out / "annotations" / f"{s}.json" for s in SPLITS}
    stats = split_stats(files)
    write_json(results / "validation.json", reports)
    write_json(results / "stats.json", stats)
    table = object_table(files)
    table.to_csv(results / "objects.csv", index=False)
    return {"summary": summary, "stats": stats, "validation": reports}


# ------------------------------------------------------------------------------------------- train
def experiment_config(params: dict, exp: Experiment):
    """The mmengine config of ``exp`` under the active profile (data set, root, size, options)."""
    from ..config import load_config

    data = params["active"]["data"]
    return load_config(exp.config, dataset=data["name"], data_root=PREPARED,
                       image_size=data.get("image_size"), options=exp.options)


def trained(params: dict, name: str):
    """(config, checkpoint) of run ``name`` as the train stage left it (``checkpoint`` in its
    ``summary.json``, relative to the workspace); None when it was not trained in this workspace
    (no summary, skipped, or no checkpoint)."""
    path = run_dir("train", name) / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    if not summary.get("enabled") or not summary.get("checkpoint"):
        return None
    return (experiment_config(params, resolve_experiment(params, name)),
            WORK_DIRS.parent / summary["checkpoint"])


def read_curves(work_dir: Path) -> pd.DataFrame:
    """Training curves from mmengine's ``vis_data/scalars.json`` files (resumed runs merged)."""
    rows = []
    for path in sorted(work_dir.glob("*/vis_data/scalars.json")):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    if not rows:
        return pd.DataFrame(columns=["iter", "epoch", "loss", "loss_rec", "srtod_t", "lr"])
    df = pd.DataFrame(rows)
    if "loss" not in df or "iter" not in df:
        return pd.DataFrame(columns=["iter", "epoch", "loss", "loss_rec", "srtod_t", "lr"])
    df = df[df["loss"].notna()]  # training rows (validation rows carry metrics, no loss)
    df = df[[c for c in df.columns if c in ("iter", "epoch", "lr", "srtod_t", "acc")
             or c.startswith("loss")]]
    return df.drop_duplicates("iter", keep="last").sort_values("iter").reset_index(drop=True)


def read_val_curve(work_dir: Path) -> pd.DataFrame:
    """Validation metrics logged during training (``val_interval``): epoch, iter, AP, APvt, ...

    mmengine logs validation rows with the epoch as ``step``; ``iter`` is the last training
    iteration of that epoch. Empty when the run never validated.
    """
    train_rows, val_rows = [], []
    for path in sorted(work_dir.glob("*/vis_data/scalars.json")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            (train_rows if "loss" in row else val_rows).append(row)
    val_rows = [r for r in val_rows if any(k.endswith("/AP") for k in r)]
    if not val_rows:
        return pd.DataFrame(columns=["epoch", "iter", "AP"])
    last_iter = {}
    for r in train_rows:
        last_iter[r["epoch"]] = max(last_iter.get(r["epoch"], 0), r["iter"])
    df = pd.DataFrame(val_rows)
    df = df.rename(columns={c: c.split("/", 1)[1] for c in df.columns if "/" in c})
    df["epoch"] = df.pop("step").astype(int)
    df["iter"] = df["epoch"].map(lambda e: last_iter.get(e, float("nan")))
    keep = ["epoch", "iter"] + [c for c in df.columns if c.startswith("AP")]
    return df[keep].drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)


def final_threshold(checkpoint: Path) -> float | None:
    """The DGFE threshold t stored in a checkpoint (None without DGFE)."""
    import torch

    from ..engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    state = torch.load(checkpoint, map_location="cpu")["state_dict"]
    t = state.get("srtod.dgfe.threshold.t")
    return None if t is None else float(t)


def train_experiment(params: dict, name: str, threads: int = 2, progress_bar: bool = True) -> dict:
    """Train experiment ``name`` (or record why it is skipped); returns its summary.

    ``train_seconds`` is this call's time: a resumed run counts only what it trained now."""
    import torch

    from ..train import train

    exp = resolve_experiment(params, name)
    out = run_dir("train", name)
    if out.exists():
        shutil.rmtree(out)
    summary: dict[str, Any] = {"experiment": name, "detector": exp.detector, "config": exp.config,
                               "options": exp.options, "seed": exp.seed, "srtod": exp.srtod,
                               "profile": params["profile"], "enabled": exp.enabled}
    if not exp.enabled:
        summary["skipped"] = f"not run in profile {params['profile']!r}"
        (work_dir(name)).mkdir(parents=True, exist_ok=True)
        (work_dir(name) / "SKIPPED").write_text(summary["skipped"] + "\n")
        write_json(out / "summary.json", summary)
        pd.DataFrame(columns=["iter"]).to_csv(out / "curves.csv", index=False)
        return summary
    torch.set_num_threads(threads)
    (work_dir(name) / "SKIPPED").unlink(missing_ok=True)
    cfg = experiment_config(params, exp)
    start = time.perf_counter()
    result = train(cfg, work_dir(name), progress=progress_bar)
    curves = read_curves(result.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    curves.to_csv(out / "curves.csv", index=False)
    read_val_curve(result.work_dir).to_csv(out / "val_curve.csv", index=False)
    summary.update(checkpoint=str(result.checkpoint.relative_to(WORK_DIRS.parent)),
                   resumed_from=str(result.resumed_from) if result.resumed_from else None,
                   train_seconds=round(time.perf_counter() - start, 1), threads=threads,
                   max_epochs=cfg.train_cfg.max_epochs,
                   iterations=int(curves["iter"].max()) if len(curves) else 0,
                   final_t=final_threshold(result.checkpoint))
    write_json(out / "summary.json", summary)
    return summary


def train_experiments(params: dict, names: list[str] | None = None,
                      workers: int | None = None) -> dict[str, dict]:
    """Train ``names`` (default: every run of the active profile), ``workers`` one-thread runs side
    by side (default: the profile's ``workers``, else the core count); returns the summaries.

    Each run resumes from its last checkpoint and is a no-op when already finished; logs go to
    ``work_dirs/logs/<name>.log``. Summaries are written as for :func:`train_experiment`.
    """
    from .parallel import default_workers, epochs_done, run_jobs

    exps = {n: resolve_experiment(params, n)
            for n in (profile_runs(params["active"]) if names is None else names)}
    total = {n: e.options.get("train_cfg.max_epochs", 0) for n, e in exps.items()}
    # longest runs first, so that the workers finish together: SR-TOD (~1.5x a baseline's step)
    # before baselines, longer schedules first
    names = sorted(exps, key=lambda n: -total[n] * (1.6 if exps[n].srtod else 1.0))
    workers = default_workers(params) if workers is None else workers

    def progress() -> str:
        done = {n: epochs_done(work_dir(n)) for n in names}
        running = ", ".join(f"{n} {done[n]}/{total[n]}" for n in names
                            if 0 < done[n] < total[n])
        return (f"epochs {sum(done.values())}/{sum(total.values())} "
                f"({sum(done[n] >= total[n] for n in names)}/{len(names)} runs done); {running}")

    log.info("training %d runs, %d side by side: %s", len(names), workers, ", ".join(names))
    start = time.perf_counter()
    summaries = run_jobs(train_experiment, params, names, WORK_DIRS / "logs", workers=workers,
                         progress=progress, progress_bar=workers <= 1)
    log.info("trained %d runs in %.0f s", len(names), time.perf_counter() - start)
    return summaries


def evaluate_experiments(params: dict, names: list[str] | None = None,
                         workers: int | None = None, device: str | None = None) -> dict[str, dict]:
    """Evaluate ``names`` (default: every run of the active profile) side by side, like
    :func:`train_experiments`, on ``device`` (default: CUDA when available); returns the metric
    records."""
    from .parallel import default_workers, run_jobs

    names = list(profile_runs(params["active"]) if names is None else names)
    workers = default_workers(params) if workers is None else workers
    return run_jobs(evaluate_experiment, params, names, RESULTS / "eval" / "logs",
                    workers=workers, device=device)


# ---------------------------------------------------------------------------------------- evaluate
def _coverage_inputs(predictions, gt_by_image: dict[int, np.ndarray]):
    masks = [p.maps["mask"] > 0.5 for p in predictions]
    boxes = [gt_by_image.get(p.img_id, np.zeros((0, 4))) for p in predictions]
    return masks, boxes


def _gt_boxes(ann_file: Path) -> dict[int, np.ndarray]:
    """Non-crowd ground-truth boxes (x, y, w, h) per image id."""
    data = json.loads(ann_file.read_text())
    boxes: dict[int, list] = {}
    for ann in data["annotations"]:
        if not ann.get("iscrowd", 0):
            boxes.setdefault(ann["image_id"], []).append(ann["bbox"])
    return {k: np.asarray(v, dtype=float).reshape(-1, 4) for k, v in boxes.items()}


def evaluate_experiment(params: dict, name: str, split: str = "test", threads: int = 2,
                        device: str | None = None) -> dict:
    """Predict ``split`` with the trained experiment, evaluate (AI-TOD protocol), and for SR-TOD
    models measure the difference-map coverage per size bucket. Returns the metrics dict."""
    import torch

    from ..evaluation import coverage_table, difference_map_coverage, evaluate_coco, pr_curves
    from ..inference import build_loader, build_model, iter_predictions, to_coco_results

    exp = resolve_experiment(params, name)
    out = run_dir("eval", name)
    if out.exists():
        shutil.rmtree(out)
    train_summary = json.loads((run_dir("train", name) / "summary.json").read_text())
    record: dict[str, Any] = {"experiment": name, "detector": exp.detector, "srtod": exp.srtod,
                              "seed": exp.seed, "enabled": exp.enabled,
                              "profile": params["profile"]}
    if not exp.enabled:
        record["skipped"] = train_summary.get("skipped", "not trained")
        write_json(out / "metrics.json", record)
        return record
    torch.set_num_threads(threads)
    cfg, checkpoint = trained(params, name)
    model = build_model(cfg, checkpoint, device=device)
    loader = build_loader(cfg, split)
    start = time.perf_counter()
    predictions = list(iter_predictions(model, loader, record_maps=exp.srtod))
    seconds = time.perf_counter() - start
    ann_file = PREPARED / "annotations" / f"{split}.json"
    detections = to_coco_results(predictions, list(loader.dataset.cat_ids))
    write_json(out / "detections.json", detections)
    result = evaluate_coco(ann_file, detections, protocol="aitod")
    pr_curves(result).to_csv(out / "pr.csv", index=False)
    record.update(metrics=result["metrics"], per_class=result.get("per_class"),
                  images=len(predictions), device=str(next(model.parameters()).device),
                  seconds_per_image=round(seconds / max(len(predictions), 1), 4),
                  final_t=train_summary.get("final_t"))
    threshold = getattr(getattr(getattr(model, "srtod", None), "dgfe", None), "threshold", None)
    if threshold is not None and threshold.mode == "none":
        # D enters DGFE unbinarized: there is no binary map whose coverage could be measured
        record["coverage"] = None
    elif exp.srtod and predictions and "mask" in predictions[0].maps:
        masks, boxes = _coverage_inputs(predictions, _gt_boxes(ann_file))
        coverage = difference_map_coverage(masks, boxes)
        table = coverage_table(coverage).reset_index().rename(columns=COVERAGE_COLUMNS)
        table.assign(experiment=name).to_csv(out / "coverage.csv", index=False)
        record["coverage"] = coverage
    write_json(out / "metrics.json", record)
    return record
