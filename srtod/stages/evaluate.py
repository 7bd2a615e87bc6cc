"""The evaluate stage (notebook 03): each trained run predicts the test split and is scored with the
AI-TOD protocol; SR-TOD runs also measure how much of each object the binary difference map
covers. Records under ``results/eval/<run>``."""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import numpy as np

from ..data.cocoio import dump_json
from ..paths import PREPARED, output_dir, run_dir
from .params import Experiment, profile_runs, resolve_experiment, trained

COVERAGE_COLUMNS = {"touched_share": "touched", "mean_covered_share": "covered",
                    "background_share": "background"}


def evaluate_experiments(params: dict, names: list[str] | None = None,
                         workers: int | None = None, device: str | None = None) -> dict[str, dict]:
    """Evaluate ``names`` (default: every run of the active profile) side by side, like
    :func:`train_experiments`, on ``device`` (default: CUDA when available); returns the metric
    records."""
    from ..execution.local import default_workers, run_jobs

    names = list(profile_runs(params["active"]) if names is None else names)
    workers = default_workers(params) if workers is None else workers
    return run_jobs(evaluate_experiment, {n: resolve_experiment(params, n) for n in names},
                    output_dir("eval") / "logs", workers=workers, device=device)


def _coverage_inputs(predictions, gt_by_image: dict[int, np.ndarray]):
    masks = [p.maps["mask"] > 0.5 for p in predictions]
    boxes = [gt_by_image.get(p.img_id, np.zeros((0, 4))) for p in predictions]
    return masks, boxes


def evaluate_experiment(exp: Experiment, split: str = "test", threads: int = 2,
                        device: str | None = None) -> dict:
    """Predict ``split`` with the trained run ``exp``, evaluate (AI-TOD protocol), and for SR-TOD
    models measure the difference-map coverage per size bucket. Returns the metrics dict."""

    from ..evaluation import coverage_table, difference_map_coverage, evaluate_coco, pr_curves
    from ..evaluation.coverage import gt_boxes
    from ..inference import build_loader, build_model, iter_predictions, to_coco_results
    from ..numerics import enter_run
    from ..threshold_choice import model_threshold

    name = exp.name
    out = run_dir("eval", name)
    if out.exists():
        shutil.rmtree(out)
    train_summary = json.loads((run_dir("train", name) / "summary.json").read_text())
    record: dict[str, Any] = {"experiment": name, "detector": exp.detector, "srtod": exp.srtod,
                              "seed": exp.seed, "enabled": exp.enabled,
                              "profile": exp.profile}
    if not exp.enabled:
        record["skipped"] = train_summary.get("skipped", "not trained")
        dump_json(record, out / "metrics.json", indent=2)
        return record
    numerics = enter_run(threads)
    cfg, checkpoint = trained(exp)
    model = build_model(cfg, checkpoint, device=device)
    loader = build_loader(cfg, split)
    start = time.perf_counter()
    predictions = list(iter_predictions(model, loader, record_maps=exp.srtod))
    seconds = time.perf_counter() - start
    ann_file = PREPARED / "annotations" / f"{split}.json"
    detections = to_coco_results(predictions, list(loader.dataset.cat_ids))
    dump_json(detections, out / "detections.json", indent=2)
    result = evaluate_coco(ann_file, detections, protocol="aitod")
    pr_curves(result).to_csv(out / "pr.csv", index=False)
    record.update(metrics=result["metrics"], per_class=result.get("per_class"),
                  images=len(predictions), device=str(next(model.parameters()).device),
                  seconds_per_image=round(seconds / max(len(predictions), 1), 4),
                  final_t=train_summary.get("final_t"), numerics=numerics)
    if model_threshold(model)[0] == "none":
        # D enters DGFE unbinarized: there is no binary map whose coverage could be measured
        record["coverage"] = None
    elif exp.srtod and predictions and "mask" in predictions[0].maps:
        masks, boxes = _coverage_inputs(predictions, gt_boxes(ann_file))
        coverage = difference_map_coverage(masks, boxes)
        table = coverage_table(coverage).reset_index().rename(columns=COVERAGE_COLUMNS)
        table.assign(experiment=name).to_csv(out / "coverage.csv", index=False)
        record["coverage"] = coverage
    dump_json(record, out / "metrics.json", indent=2)
    return record
