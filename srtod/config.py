"""Load srtod/mmdet configs, switch their data set, and apply overrides.

Configs are the truth: every per-data-set setting (input size, detections per image, anchor scale,
initial DGFE threshold, number of classes) is written once, in the data-set base
``configs/_base_/datasets/<name>.py``, and the paper has one config per (detector, data set) that
inherits it; the pipeline selects that config (``params.yaml``, ``{data}``), it patches nothing.

What remains is the ``--dataset`` switch for configs written for the synthetic set (the slim CPU
configs): :func:`switch_dataset` replaces the dataloaders and evaluators with those of the data-set
base and sets the model's number of classes, anchor scale and initial threshold from the same base's
variables (:data:`DATASET_VARIABLES`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config, ConfigDict

from . import paths
from .paths import CONFIGS

DATA_KEYS = ("train_dataloader", "val_dataloader", "test_dataloader", "val_evaluator",
             "test_evaluator")
#: Variables of a data-set base that describe its data set; :func:`switch_dataset` carries them over
#: (with the data keys) and applies the last three to the model.
DATASET_VARIABLES = ("dataset_name", "dataset_type", "data_root", "image_scale", "num_classes",
                     "anchor_scale", "threshold_init")
#: The data set whose configs (the slim CPU ones) :func:`switch_dataset` may move to another one.
SWITCHABLE = "synthetic"


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


def random_init(cfg: Config) -> Config:
    """``cfg`` with every ImageNet initialisation removed, in place: each ``init_cfg`` of type
    Pretrained in the model (the backbone's, DetectoRS' second backbone's) and each backbone's
    ``pretrained`` (TorchvisionMobileNetV2's installed weights, mmdet's deprecated checkpoint
    strings), for what needs no trained weights, no network and no weight package (timing,
    FLOPs, the tests)."""
    for node in _walk(cfg.model):
        if (node.get("init_cfg") or {}).get("type") == "Pretrained":
            node["init_cfg"] = None
        if node.get("pretrained"):
            node["pretrained"] = None
    return cfg


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


def set_classes(cfg: Config, classes: tuple[str, ...] | list[str]) -> None:
    """Give ``cfg`` the classes of its data: every dataloader's ``metainfo`` and the heads'
    ``num_classes``."""
    for key in DATA_KEYS:
        if key.endswith("dataloader") and cfg.get(key):
            cfg[key]["dataset"]["metainfo"] = dict(classes=list(classes))
    cfg.num_classes = len(classes)
    set_num_classes(cfg.model, len(classes))


def config_classes(cfg: Config) -> tuple[str, ...]:
    """The classes ``cfg`` trains: its dataloaders' ``metainfo``, else its data set's (catalog)."""
    from .data.catalog import CATALOG

    meta = (cfg.get("train_dataloader") or {}).get("dataset", {}).get("metainfo") or {}
    if meta.get("classes"):
        return tuple(meta["classes"])
    info = CATALOG.get(cfg.get("dataset_name") or "")
    return info.classes if info else ()


def array_test_pipeline(cfg: Config) -> list[dict]:
    """The config's test pipeline for images given as arrays: ``LoadImageFromNDArray`` instead of
    loading from a file, annotation loading removed."""
    loader = cfg.get("test_dataloader") or cfg.get("val_dataloader")
    steps = loader["dataset"]["pipeline"] if loader else cfg.test_pipeline
    out = []
    for step in steps:
        kind = str(step["type"]).split(".")[-1]
        if kind == "LoadAnnotations" or kind.endswith("LoadAnnotations"):
            continue
        if kind == "LoadImageFromFile":
            step = dict(type="mmdet.LoadImageFromNDArray")
        out.append(dict(step))
    return out


def class_names(model, cfg: Config) -> tuple[str, ...]:
    """The class names a built ``model`` predicts: its ``dataset_meta``, else the test data set's
    ``metainfo`` in ``cfg``, else its dataset class's ``METAINFO``, else the heads' class numbers."""
    meta = getattr(model, "dataset_meta", None) or {}
    if meta.get("classes"):
        return tuple(meta["classes"])
    dataset = (cfg.get("test_dataloader") or {}).get("dataset") or {}
    if (dataset.get("metainfo") or {}).get("classes"):
        return tuple(dataset["metainfo"]["classes"])
    try:
        from mmdet.registry import DATASETS

        cls = DATASETS.get(dataset.get("type"))
        if cls is not None and cls.METAINFO.get("classes"):
            return tuple(cls.METAINFO["classes"])
    except Exception:  # noqa: BLE001  (names are a convenience; fall back to numbers)
        pass
    heads = [n["num_classes"] for n in _walk(cfg.model) if "num_classes" in n]
    return tuple(str(i) for i in range(heads[0] if heads else 1))


def follow_annotation_classes(cfg: Config, *, root_given: bool) -> None:
    """Make the classes those of the training annotations (``<data_root>/annotations/train.json``,
    category names in id order) when they differ: always for the generic ``coco`` data set, and
    for a config of the synthetic set (the slim ones) pointed at another folder (``--data-root``),
    so that a COCO set with other classes trains without code. A config of a named paper data set
    keeps that data set's classes (``--dataset coco`` takes another set's). The same names in
    another order keep the config's order."""
    from .data.catalog import annotation_classes

    name = cfg.get("dataset_name")
    if name != "coco" and not (root_given and name in (None, SWITCHABLE)):
        return
    dataset = cfg.train_dataloader.dataset
    ann = Path(dataset.get("data_root") or "") / dataset.ann_file
    if name != "coco" and not ann.is_file():
        return  # a root that does not hold data yet (a config built before its data)
    classes = annotation_classes(ann)
    if set(classes) != set(config_classes(cfg)):
        set_classes(cfg, classes)


def set_image_scale(cfg: Config, scale: int | tuple[int, int]) -> None:
    """Set the ``scale`` of every ``Resize`` in the dataloaders' pipelines (keep_ratio as is)."""
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    for key in DATA_KEYS:
        if key.endswith("dataloader") and cfg.get(key):
            for node in _walk(cfg[key]):
                if node.get("type") == "Resize":
                    node["scale"] = scale


#: The largest input side ``train --data-root`` takes from the data by itself (mmdet's 1333).
MAX_DATA_SIDE = 1333


def data_image_size(ann_file: str | Path) -> tuple[int, int] | None:
    """(h, w) of the median image (by its longer side) of a COCO json, None when it lists no
    image with a size."""
    data = json.loads(Path(ann_file).read_text())
    sizes = sorted(((int(im["height"]), int(im["width"])) for im in data.get("images", [])
                    if im.get("height") and im.get("width")), key=max)
    return sizes[len(sizes) // 2] if sizes else None


def fit_input_to_data(cfg: Config, image_size: int | None = None,
                      max_side: int = MAX_DATA_SIDE) -> str | None:
    """Train at the data's own scale (``train --data-root``): when the training images (their
    median, :func:`data_image_size`) are larger than the config's keep-ratio Resize, resize to
    their longer side instead, at most ``max_side`` (:func:`set_image_scale`); ``image_size``
    (the user's ``--image-size``, already applied) is kept as it is. Returns one line to print
    when the images are still shrunk by more than 2x, else None."""
    dataset = cfg.train_dataloader.dataset
    ann = Path(dataset.get("data_root") or "") / dataset.ann_file
    resize = next((n for n in _walk(cfg.train_dataloader) if n.get("type") == "Resize"), None)
    size = data_image_size(ann) if ann.is_file() and resize else None
    if size is None or not resize.get("keep_ratio", False):
        return None
    scale = resize["scale"]
    side = max(scale) if isinstance(scale, (list, tuple)) else int(scale)
    h, w = size
    if image_size is None and max(h, w) > side:
        side = min(max(h, w), max_side)
        set_image_scale(cfg, side)
    factor = max(h, w) / side
    if factor <= 2:
        return None
    return (f"input {side} px: the training images (median {w} x {h}) are shrunk {factor:.1f}x, "
            f"and objects with them (a {round(2 * factor)} px object becomes 2 px); "
            f"--image-size {max(h, w)} trains at their own size, or crop them into tiles")


def _dataset_key(name: str) -> str:
    from .data.catalog import get_dataset_info

    return get_dataset_info(name).name


def dataset_base(name: str) -> Config:
    """The data-set base config ``configs/_base_/datasets/<name>.py`` (``name`` as in
    :mod:`srtod.data.catalog`, case-insensitive)."""
    return Config.fromfile(CONFIGS / "_base_" / "datasets" / f"{_dataset_key(name)}.py")


def switch_dataset(cfg: Config, name: str) -> None:
    """Move ``cfg`` to data set ``name``: the dataloaders, evaluators and data-set variables of the
    data-set base replace ``cfg``'s, and the model takes the base's ``num_classes``,
    ``anchor_scale`` and ``threshold_init`` (heads, anchor generators, DGFE threshold).

    A config already written for ``name`` is left as it is. Only configs of the synthetic set (the
    slim CPU ones) move to another data set, or any config to the synthetic set (a CPU rehearsal)
    or to ``coco`` (your own data, with the settings of the data set you chose): a config written
    for a real data set carries that data set's schedule and detections per image, so another
    paper data set takes its own config, not a patched one.
    """
    data_cfg = dataset_base(name)
    target, own = data_cfg.dataset_name, cfg.get("dataset_name")
    if own == target:
        return
    if own not in (None, SWITCHABLE) and target not in (SWITCHABLE, "coco"):
        folder = Path(cfg.filename).parent if cfg.filename else CONFIGS
        own_configs = sorted(str(p.relative_to(CONFIGS) if p.is_relative_to(CONFIGS) else p)
                             for p in folder.glob(f"*_{target}.py"))
        instead = ", ".join(own_configs) or f"one inheriting _base_/datasets/{target}.py"
        raise ValueError(
            f"{cfg.filename or 'this config'} is written for {own!r}: its schedule and detections "
            f"per image are that data set's, so it is not switched to {target!r}; use {target!r}'s "
            f"own config ({instead})")
    for key in DATA_KEYS:
        cfg[key] = data_cfg[key]
    for key in DATASET_VARIABLES:
        cfg[key] = data_cfg[key]
    set_num_classes(cfg.model, data_cfg.num_classes)
    set_anchor_scale(cfg.model, data_cfg.anchor_scale)
    srtod = cfg.model.get("srtod")
    if srtod and srtod.get("dgfe"):
        srtod.dgfe.setdefault("threshold", {})["init"] = data_cfg.threshold_init


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


def load_config(config: str | Path | Config, *, dataset: str | None = None,
                data_root: str | Path | None = None, image_size: int | None = None,
                work_dir: str | Path | None = None, options: Mapping[str, Any] | None = None,
                classes: tuple[str, ...] | list[str] | None = None) -> Config:
    """Load a config, optionally switch its data set and root, then apply ``options``.

    Args:
        config: path, or path relative to ``srtod/configs``, or a ``Config`` (deep-copied, so
            the caller's stays as it was).
        dataset: a name of :mod:`srtod.data.catalog` (``synthetic``, ``droneswarms``, ``visdrone``,
            ``aitod``, or ``coco``: any COCO-format set); None, or the config's own data set,
            keeps the config as it is (see :func:`switch_dataset`).
        data_root: folder with ``images/`` and ``annotations/`` for the chosen data set; when
            its ``annotations/train.json`` has other categories, the classes follow them
            (:func:`follow_annotation_classes`).
        image_size: the (longer) side images are resized to; None keeps the config's.
        work_dir: where checkpoints and logs go.
        classes: the classes of a trained model (its checkpoint's): they replace the config's
            and the annotations' (a trained head has its classes whatever the data set says).
        options: dotted-key overrides, as ``--cfg-options`` (e.g. ``{'model.srtod.dgfe': None}``);
            a new ``train_cfg.max_epochs`` stretches the LR schedule (:func:`stretch_schedule`).
    """
    cfg = copy.deepcopy(config) if isinstance(config, Config) else \
        Config.fromfile(resolve_config(config))
    if dataset is not None and cfg.get("dataset_name") != _dataset_key(dataset):
        switch_dataset(cfg, dataset)
    if data_root is not None:
        set_data_root(cfg, data_root)
    if classes:
        if tuple(classes) != config_classes(cfg):
            set_classes(cfg, classes)
    else:
        follow_annotation_classes(cfg, root_given=data_root is not None)
    if image_size is not None:
        set_image_scale(cfg, image_size)
    if options:
        old_epochs = cfg.get("train_cfg", {}).get("max_epochs")
        cfg.merge_from_dict(dict(options))
        stretch_schedule(cfg, old_epochs)
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    return cfg


def portable_paths(node: Any) -> Any:
    """``node`` with every absolute path string as :func:`srtod.paths.portable` records it."""
    if isinstance(node, Mapping):
        return {k: portable_paths(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [portable_paths(v) for v in node]
    if isinstance(node, str) and Path(node).is_absolute():
        return paths.portable(node)
    return node


#: What mmengine's Runner reads from a config (``Runner.from_cfg``, the model wrapper, the imports):
#: everything that changes what training produces. The other top-level names are the config's own
#: variables (``image_scale``, ``slim_backbone``, ``threshold_init``, ...), which act only through
#: these. ``work_dir``, ``resume``, ``load_from`` and ``launcher`` say where and how, not what.
RUNNER_KEYS = ("model", "train_dataloader", "val_dataloader", "test_dataloader", "train_cfg",
               "val_cfg", "test_cfg", "auto_scale_lr", "optim_wrapper", "param_scheduler",
               "val_evaluator", "test_evaluator", "default_hooks", "custom_hooks",
               "data_preprocessor", "env_cfg", "log_processor", "log_level", "visualizer",
               "default_scope", "randomness", "experiment_name", "custom_imports",
               "model_wrapper_cfg", "find_unused_parameters", "compile")


def config_fingerprint(cfg: Config) -> str:
    """A hash of everything in ``cfg`` that changes what training produces (:data:`RUNNER_KEYS`).
    Paths inside the workspace or repository count relative to it, so a clone or a moved checkout
    keeps its runs."""
    data = {k: portable_paths(v) for k, v in cfg.to_dict().items() if k in RUNNER_KEYS}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
