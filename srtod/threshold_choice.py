"""Choose the DGFE threshold t for a data set from a trained model's difference maps (Eq. 3-4).

:func:`measure_threshold` runs a trained SR-TOD (or RH-only) model over a split, accumulates its
difference maps D against the ground-truth boxes (:class:`~srtod.evaluation.threshold_curve.
ThresholdCurve`) and writes ``curve.csv``, ``threshold.json`` and ``threshold_curve.png``: the
coverage of every t, the recommended t (Youden's J on very tiny boxes,
:func:`~srtod.evaluation.threshold_curve.recommend`) and the coverage at the paper's three values
and at the model's own t. ``python -m srtod threshold`` is its command.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .data.cocoio import dump_json
from .evaluation.coverage import gt_boxes
from .evaluation.threshold_curve import (
    PAPER_THRESHOLDS,
    ThresholdCurve,
    grid_with,
    recommend,
    row_at,
)

log = logging.getLogger(__name__)


def model_threshold(model) -> tuple[str | None, float | None]:
    """(mode, t) of a model's DGFE threshold; (None, None) without DGFE (e.g. RH only)."""
    thr = getattr(getattr(getattr(model, "srtod", None), "dgfe", None), "threshold", None)
    if thr is None:
        return None, None
    return thr.mode, (None if thr.t is None else float(thr.t.detach()))


def split_loader_cfg(cfg, split: str) -> dict:
    """The dataloader config that reads ``split`` as a test split: ``val``/``test`` as they are,
    ``train`` as the validation loader (no flips or crops, in order) on the training images."""
    if split in ("val", "test"):
        return cfg[f"{split}_dataloader"]
    if split != "train":
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    train = cfg.train_dataloader.dataset
    if "ann_file" not in train:
        raise ValueError(f"{cfg.filename}: train_dataloader.dataset ({train.get('type')}) has no "
                         "ann_file (a wrapped data set?): measure on --split val instead")
    val = cfg.val_dataloader
    return dict(val, dataset=dict(val.dataset, ann_file=train.ann_file,
                                  data_prefix=train.get("data_prefix", val.dataset.data_prefix),
                                  data_root=train.get("data_root", val.dataset.get("data_root"))))


def measure_threshold(cfg, checkpoint: str | Path, out_dir: str | Path, split: str = "val",
                      device: str | None = None, limit: int | None = None,
                      model=None) -> dict[str, Any]:
    """Measure the threshold curve of a trained model on ``split`` (``train``, ``val`` or
    ``test``) and write it to ``out_dir``; returns the summary written to ``threshold.json``.
    ``model``: the checkpoint's model when the caller has built it already."""
    from mmengine.runner import Runner

    from .inference import build_model, iter_predictions
    from .viz import save
    from .viz.threshold_plots import plot_threshold_curve

    if "srtod" not in cfg.model:
        raise ValueError(f"{cfg.filename}: the model has no SR-TOD reconstruction head, so there "
                         "is no difference map to measure (an SR-TOD or RH-only config is needed)")
    loader_cfg = split_loader_cfg(cfg, split)
    ann_file = Path(loader_cfg["dataset"].get("data_root") or "") / loader_cfg["dataset"]["ann_file"]
    if model is None:
        model = build_model(cfg, checkpoint, device=device)
    mode, own_t = model_threshold(model)
    extras = {f"paper {k} ({round(v * 255)}/255)": v for k, v in PAPER_THRESHOLDS.items()}
    if own_t is not None and mode != "quantile":
        extras[f"this model's t ({mode})"] = own_t
    curve = ThresholdCurve(grid=grid_with(extras.values()))
    boxes = gt_boxes(ann_file)
    loader = Runner.build_dataloader(loader_cfg)
    for pred in iter_predictions(model, loader, record_maps=True, limit=limit):
        curve.add(pred.maps["dmap"], boxes.get(pred.img_id, np.zeros((0, 4))))
    table = curve.table()
    best = recommend(table)
    summary = {
        "config": str(cfg.filename), "checkpoint": str(checkpoint), "split": split,
        "annotations": str(ann_file), "n_images": curve.n_images,
        "n_boxes": dict(zip(curve.bucket_keys, map(int, curve.n_boxes), strict=True)),
        "model_threshold": {"mode": mode, "t": own_t},
        "rule": "the largest t that maximises (share of very tiny boxes touched) - (share of "
                "background pixels on), Youden's J",
        "recommended": best,
        "at": {name: row_at(table, t) for name, t in extras.items()},
        "distribution": curve.distribution(),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "curve.csv", index=False, float_format="%.6g")
    dump_json(summary, out_dir / "threshold.json", indent=2)
    peaks = dict(zip(curve.bucket_keys, curve.peaks, strict=True))
    save(plot_threshold_curve(table, summary, peaks), out_dir / "threshold_curve.png")
    log.info("threshold: recommended t = %.4f (%.1f/255): %.0f%% of very tiny boxes touched, "
             "%.2f%% of the background on", best["t"], best["t255"], 100 * best["touched_vt"],
             100 * best["background_on"])
    return summary
