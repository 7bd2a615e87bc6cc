"""Load srtod/mmdet configs, switch their data set, and apply overrides.

The data-set switch of the pipeline (``params.yaml: data.name``) lives here: a config written for one
data set is moved to another by replacing its dataloaders and evaluators with those of
``configs/_base_/datasets/<name>.py`` and setting the dependent model values (number of classes,
anchor scale, initial DGFE threshold) from :mod:`srtod.data.catalog`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config, ConfigDict

from .paths import CONFIGS

DATA_KEYS = ("train_dataloader", "val_dataloader", "test_dataloader", "val_evaluator",
             "test_evaluator")


def list_configs() -> list[str]:
    """Config files under ``srtod/configs`` (relative paths), bases excluded."""
    return sorted(str(p.relative_to(CONFIGS)) for p in CONFIGS.rglob("*.py")
                  if "_base_" not in p.parts)


def resolve_config(config: str | Path) -> Path:
    """A config path as given, or relative to ``srtod/configs``."""
    for candidate in (Path(config), CONFIGS / config):
        if candidate.is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"config {config!r} not found (neither as a path nor under {CONFIGS}); "
                            f"available: {', '.join(list_configs())}")


def _walk(node: Any):
    """Yield every dict inside a nested dict/list config."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value)


def set_num_classes(model: ConfigDict, num_classes: int) -> None:
    """Set ``num_classes`` of every head in the model config (RoI heads, cascade stages, ...)."""
    for node in _walk(model):
        if "num_classes" in node:
            node["num_classes"] = num_classes


def set_anchor_scale(model: ConfigDict, scale: float) -> None:
    """The paper's "anchor scale" (Sec. 4.1): ``scales=[s]`` of RPN-style anchor generators and
    ``octave_base_scale=s`` of RetinaNet-style ones. DETRs have no anchors."""
    for node in _walk(model):
        if node.get("type") == "AnchorGenerator":
            if "octave_base_scale" in node:
                node["octave_base_scale"] = scale
            else:
                node["scales"] = [scale]


def set_data_root(cfg: Config, data_root: str | Path) -> None:
    """Point every dataloader and evaluator of ``cfg`` at ``data_root`` (same file layout)."""
    root = str(data_root).rstrip("/") + "/"
    for key in DATA_KEYS:
        part = cfg.get(key)
        if not part:
            continue
        if key.endswith("dataloader"):
            part["dataset"]["data_root"] = root
        elif "ann_file" in part:
            part["ann_file"] = root + "annotations/" + Path(part["ann_file"]).name


def set_image_scale(cfg: Config, scale: int | tuple[int, int]) -> None:
    """Set the ``scale`` of every ``Resize`` in the dataloaders' pipelines (keep_ratio as is)."""
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    for key in DATA_KEYS:
        if key.endswith("dataloader") and cfg.get(key):
            for node in _walk(cfg[key]):
                if node.get("type") == "Resize":
                    node["scale"] = scale


def switch_dataset(cfg: Config, name: str) -> None:
    """Replace the data part of ``cfg`` with data set ``name`` (see module docstring)."""
    from .data.catalog import get_dataset_info

    info = get_dataset_info(name)
    data_cfg = Config.fromfile(CONFIGS / "_base_" / "datasets" / f"{name}.py")
    for key in DATA_KEYS:
        cfg[key] = data_cfg[key]
    set_num_classes(cfg.model, len(info.classes))
    set_anchor_scale(cfg.model, info.anchor_scale)
    srtod = cfg.model.get("srtod")
    if srtod and srtod.get("dgfe"):
        srtod.dgfe.setdefault("threshold", {})["init"] = info.threshold


def stretch_schedule(cfg: Config, old_epochs: int) -> None:
    """Make the by-epoch LR schedulers follow ``train_cfg.max_epochs`` after it changed from
    ``old_epochs``: a scheduler that ended at ``old_epochs`` now ends at the new value, and its
    ``begin`` and ``milestones`` scale by the same factor (a cosine keeps decaying to the last
    epoch; a step schedule's 16/19 of 20 become 24/29 of 30). Iteration-based warm-ups are kept."""
    new_epochs = cfg.get("train_cfg", {}).get("max_epochs")
    if not new_epochs or not old_epochs or new_epochs == old_epochs:
        return
    factor = new_epochs / old_epochs
    schedulers = cfg.get("param_scheduler") or []
    for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
        if not sched.get("by_epoch", True) or sched.get("end") != old_epochs:
            continue
        sched["end"] = new_epochs
        sched["begin"] = math.floor(sched.get("begin", 0) * factor + 0.5)
        if "milestones" in sched:
            sched["milestones"] = [math.floor(m * factor + 0.5) for m in sched["milestones"]]


def load_config(config: str | Path, *, dataset: str | None = None,
                data_root: str | Path | None = None, image_size: int | None = None,
                work_dir: str | Path | None = None, options: Mapping[str, Any] | None = None) -> Config:
    """Load a config, optionally switch its data set and root, then apply ``options``.

    Args:
        config: path, or path relative to ``srtod/configs``.
        dataset: a name of :mod:`srtod.data.catalog` (``synthetic``, ``droneswarms``, ``visdrone``,
            ``aitod``); None keeps the config's own.
        data_root: folder with ``images/`` and ``annotations/`` for the chosen data set.
        image_size: the (longer) side images are resized to; None keeps the config's.
        work_dir: where checkpoints and logs go.
        options: dotted-key overrides, as ``--cfg-options`` (e.g. ``{'model.srtod.dgfe': None}``);
            a new ``train_cfg.max_epochs`` stretches the LR schedule (:func:`stretch_schedule`).
    """
    cfg = Config.fromfile(resolve_config(config))
    if dataset is not None:
        switch_dataset(cfg, dataset)
    if data_root is not None:
        set_data_root(cfg, data_root)
    if image_size is not None:
        set_image_scale(cfg, image_size)
    if options:
        old_epochs = cfg.get("train_cfg", {}).get("max_epochs")
        cfg.merge_from_dict(dict(options))
        stretch_schedule(cfg, old_epochs)
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    return cfg


def config_fingerprint(cfg: Config, ignore: tuple[str, ...] = ("work_dir", "resume", "load_from",
                                                               "launcher")) -> str:
    """A hash of everything in ``cfg`` that changes what training produces."""
    data = {k: v for k, v in cfg.to_dict().items() if k not in ignore}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
