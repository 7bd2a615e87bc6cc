"""A config's training data checked before anything trains (``srtod train --data-root``): the
validator (:mod:`srtod.data.validate`, image headers only) on its training and validation
annotations; or, with ``--fix-data``, the config pointed at the validator's fixed copies."""

from __future__ import annotations

from pathlib import Path

from .report import Report
from .validate import validate_coco


def use_fixed_annotations(cfg, work_dir) -> dict:
    """Point the train, val and test annotations of ``cfg`` (dataloaders and evaluators) at the
    validator's fixed copies, ``<work_dir>/data_validation/<split>.fixed.json``, which
    :func:`write_fixed_annotations` writes; returns ``{fixed json: (original json, image folder)}``. A split
    whose json does not exist is left as it is."""
    out = Path(work_dir).absolute() / "data_validation"
    fixes: dict = {}
    for split in ("train", "val", "test"):
        loader = cfg.get(f"{split}_dataloader")
        if not loader:
            continue
        dataset = loader["dataset"]
        root = Path(dataset.get("data_root") or "")
        ann = root / dataset["ann_file"]
        if not ann.is_file():
            continue
        fixed = out / f"{ann.stem}.fixed.json"
        fixes[str(fixed)] = (ann, root / dataset.get("data_prefix", {}).get("img", ""))
        dataset["ann_file"] = str(fixed)
        evaluator = cfg.get(f"{split}_evaluator")
        if isinstance(evaluator, dict) and evaluator.get("ann_file"):
            evaluator["ann_file"] = str(fixed)
    return fixes


def write_fixed_annotations(fixes: dict, reports: Path) -> list[tuple[Path, int, str]]:
    """Write the fixed copies of :func:`use_fixed_annotations`' ``fixes`` (each validator report
    under ``reports``); per annotation file: (the file, the fixes made, its fixed copy)."""
    done = []
    for fixed, (ann, img_dir) in fixes.items():
        report = validate_coco(ann, img_dir, fixed, fix=True, decode=False, verbose=False,
                               report_json=reports / f"{ann.stem}.json")
        changed = sum(1 for i in report.issues if i.action in ("fixed", "dropped", "error"))
        done.append((ann, changed, fixed))
    return done


def training_data_problems(cfg, reports: Path) -> list[tuple[Path, Report]]:
    """The training and validation annotations of ``cfg`` that need fixing (a box outside its
    image, a missing image, a bad category), each with its validator report; every report is
    saved under ``reports``. Empty images and other kept items are no problem."""
    problems = []
    for key in ("train_dataloader", "val_dataloader"):
        dataset = cfg[key]["dataset"]
        root = Path(dataset.get("data_root") or "")
        ann = root / dataset["ann_file"]
        report = validate_coco(ann, root / dataset.get("data_prefix", {}).get("img", ""),
                               fix=False, decode=False, verbose=False,
                               report_json=reports / f"{ann.stem}.json")
        if not report.ok:
            problems.append((ann, report))
    return problems


__all__ = ["training_data_problems", "use_fixed_annotations", "write_fixed_annotations"]
