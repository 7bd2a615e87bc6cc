"""What a checkpoint knows about its own run, and the config it is used with.

Every checkpoint that ``srtod train`` writes carries its settings: mmengine's CheckpointHook puts
the resolved config (``meta['cfg']``, the config text after every override: input size, pipeline,
data set, classes) and the training classes (``meta['dataset_meta']``) in it, and srtod's
ProvenanceHook the numeric settings, versions and commit (``meta['srtod_provenance']``).
:func:`resolve_config` turns a checkpoint (and optionally a config and the command's flags) into
the config ``predict``, ``export``, ``threshold`` and :class:`srtod.Detector` run with:

- no config: the checkpoint's own (an error that says what to give for a checkpoint without one);
- a config: that config, as before, with the checkpoint's classes where it carries them (its
  weights fit those classes whatever the config's data set).

Flags (``--dataset``, ``--data-root``, ``--image-size``, ``--cfg-options``) override either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config

from .inference import CheckpointError

#: Suffixes of config files (mmengine reads these); anything else given where a config or a
#: checkpoint may stand is a checkpoint (``.pth``, ``.pt``, a URL, ...).
CONFIG_SUFFIXES = (".py", ".json", ".yaml", ".yml")


class NoSettingsInCheckpoint(CheckpointError):
    """A checkpoint without a config in it (written before srtod kept it, or by another tool)."""


def is_config(path: str | Path | Config | None) -> bool:
    """True for a ``Config`` or a config file name (:data:`CONFIG_SUFFIXES`)."""
    return isinstance(path, Config) or (
        path is not None and Path(str(path)).suffix.lower() in CONFIG_SUFFIXES)


def checkpoint_meta(checkpoint: str | Path) -> dict:
    """``meta`` of a checkpoint (file or URL), ``{}`` when it has none. The tensors of a local
    file are memory-mapped, not read; :class:`CheckpointError` for an unreadable file."""
    import torch

    from .engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    try:
        if "://" in str(checkpoint):
            from mmengine.runner.checkpoint import _load_checkpoint

            ckpt = _load_checkpoint(str(checkpoint), map_location="cpu")
        else:
            ckpt = torch.load(str(checkpoint), map_location="cpu", mmap=True, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch.load fails with anything from EOFError to KeyError
        raise CheckpointError(f"cannot read checkpoint {checkpoint}: {type(err).__name__}: {err} "
                              "(not a checkpoint, or a damaged one?)") from err
    meta = ckpt.get("meta") if isinstance(ckpt, Mapping) else None
    return dict(meta) if isinstance(meta, Mapping) else {}


def checkpoint_classes(meta: Mapping) -> tuple[str, ...] | None:
    """The classes the checkpoint was trained on (``meta['dataset_meta']['classes']``), or None."""
    classes = (meta.get("dataset_meta") or {}).get("classes")
    return tuple(classes) if classes else None


def config_name(meta: Mapping) -> str:
    """The file name of the config a checkpoint was trained from: mmengine's ``experiment_name``
    is ``<config stem>_<YYYYmmdd_HHMMSS>``."""
    name = re.sub(r"_\d{8}_\d{6}$", "", str(meta.get("experiment_name") or "checkpoint"))
    return f"{name}.py"


def checkpoint_config(checkpoint: str | Path, meta: Mapping | None = None) -> Config:
    """The resolved config a checkpoint was trained with, rebuilt from ``meta['cfg']``; its
    ``filename`` is the original config's file name (:func:`config_name`). Raises
    :class:`NoSettingsInCheckpoint` for a checkpoint without one."""
    meta = checkpoint_meta(checkpoint) if meta is None else meta
    text = meta.get("cfg")
    if not isinstance(text, str) or not text.strip():
        raise NoSettingsInCheckpoint(
            f"checkpoint {checkpoint} carries no config (trained before srtod kept it, or by "
            "another tool): give its config as well, CONFIG CHECKPOINT (with the --data-root or "
            "--image-size it was trained with)")
    try:
        cfg = Config.fromstring(text, ".py")
    except Exception as err:  # a syntax or import error in the stored text
        raise CheckpointError(f"checkpoint {checkpoint}: its stored config cannot be read "
                              f"({type(err).__name__}: {err}); give the config as well") from err
    object.__setattr__(cfg, "_filename", config_name(meta))
    return cfg


def resize_of(cfg: Config) -> tuple[int, int] | None:
    """The (w, h) scale of the test pipeline's Resize, or None."""
    from .config import array_test_pipeline

    for step in array_test_pipeline(cfg):
        if str(step["type"]).split(".")[-1] == "Resize":
            scale = step["scale"]
            return tuple(scale) if isinstance(scale, (list, tuple)) else (scale, scale)
    return None


def resolve_config(config: str | Path | Config | None, checkpoint: str | Path, *,
                   dataset: str | None = None, data_root: str | Path | None = None,
                   image_size: int | None = None, options: Mapping[str, Any] | None = None
                   ) -> tuple[Config, list[str]]:
    """The config to run ``checkpoint`` with, and notes for the user (settings of the checkpoint
    that a config file given does not share; a ``Config`` object counts as resolved).

    ``config`` None: the checkpoint's own config (:func:`checkpoint_config`). A config: as given.
    Either way the classes are the checkpoint's where it carries them, and the flags override as
    :func:`srtod.config.load_config` applies them.
    """
    from .config import load_config

    meta = checkpoint_meta(checkpoint)
    classes = checkpoint_classes(meta)
    notes: list[str] = []
    if config is None:
        base = checkpoint_config(checkpoint, meta)
    else:
        base = config
    cfg = load_config(base, dataset=dataset, data_root=data_root, image_size=image_size,
                      options=options, classes=classes)
    if not isinstance(config, (Config, type(None))) and isinstance(meta.get("cfg"), str) \
            and image_size is None:
        try:
            own = resize_of(checkpoint_config(checkpoint, meta))
        except CheckpointError:
            own = None
        given = resize_of(cfg)
        if own and given and tuple(own) != tuple(given):
            notes.append(f"{checkpoint} was trained with images resized to {own[0]} x {own[1]}; "
                         f"{cfg.filename} resizes to {given[0]} x {given[1]} (without the config, "
                         "the checkpoint's own settings are used)")
    return cfg, notes


def provenance(checkpoint_or_meta: str | Path | Mapping) -> list[dict]:
    """The training sittings of a checkpoint (machine, versions, numeric settings, commit),
    oldest first; ``[]`` for a checkpoint without them."""
    meta = checkpoint_or_meta if isinstance(checkpoint_or_meta, Mapping) \
        else checkpoint_meta(checkpoint_or_meta)
    return list(meta.get("srtod_provenance") or [])


__all__ = ["CONFIG_SUFFIXES", "NoSettingsInCheckpoint", "checkpoint_classes", "checkpoint_config",
           "checkpoint_meta", "is_config", "provenance", "resize_of", "resolve_config"]
