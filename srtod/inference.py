"""Inference: a trained detector on a data split -> COCO results json (+ SR-TOD maps on request).

Glossary: N images in a batch, H x W the network input, h x w an original image.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from tqdm.auto import tqdm

from .prediction import Prediction, to_coco_results


def resolve_device(device: str | None = None) -> str:
    """``device`` as given, or ``'cuda'`` when a GPU is available and ``'cpu'`` otherwise (None or
    ``'auto'``). A CUDA device asked for on a machine without one is a clear error."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch {torch.__version__} sees no "
                           "CUDA GPU: use --device cpu")
    return str(device)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable (not a checkpoint, damaged), or
    :class:`CheckpointMismatch`."""


class CheckpointMismatch(CheckpointError):
    """A checkpoint whose weights do not fit the config's model (another model, another number of
    classes, ...). mmengine's ``load_checkpoint`` only warns about it; srtod stops."""


def check_state_dict(model: torch.nn.Module, state_dict: dict, checkpoint: str | Path = "checkpoint",
                     config: str | None = None) -> None:
    """Raise :class:`CheckpointMismatch` when ``state_dict`` misses keys of ``model``, has keys it
    lacks, or tensors of other shapes (``num_batches_tracked`` is ignored, as mmengine does)."""
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    theirs = {re.sub(r"^module\.", "", k): v for k, v in state_dict.items()
              if not k.endswith("num_batches_tracked")}
    missing = [k for k in own if k not in theirs]
    unexpected = [k for k in theirs if k not in own]
    shapes = [f"{k} {tuple(theirs[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in theirs and hasattr(theirs[k], "shape") and theirs[k].shape != own[k].shape]
    if not (missing or unexpected or shapes):
        return

    def some(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (f", ... ({len(keys)} in all)" if len(keys) > 3 else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} weights of the model are not in it ({some(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} weights in it are not in the model ({some(unexpected)})")
    if shapes:
        parts.append(f"{len(shapes)} weights have other shapes (checkpoint vs model: {some(shapes)})")
    of = f" of config {config}" if config else ""
    raise CheckpointMismatch(f"checkpoint {checkpoint} does not fit the model{of}: "
                             + "; ".join(parts) + ". Was it trained with another config?")


def init_weight_standardization(model: torch.nn.Module) -> int:
    """Set the scale and shift of every weight-standardised convolution (mmcv's ``ConvAWS2d``, in
    DetectoRS) from its own weights, as mmcv does when it loads weights without them (an ImageNet
    checkpoint); returns how many layers it set. Randomly initialised, they stay 1 and 0: every
    standardised filter then has std 1 and the activations explode (DetectoRS R50 on a random 256
    px image: 2.7e7 at P2 instead of about 1; NaN losses on a GPU)."""
    from mmcv.cnn.bricks.conv_ws import ConvAWS2d

    layers = [m for m in model.modules() if isinstance(m, ConvAWS2d)]
    for layer in layers:  # mmcv's own load path computes them when they are missing
        state = layer.state_dict()
        layer.load_state_dict({k: v for k, v in state.items()
                               if k not in ("weight_gamma", "weight_beta")}, strict=False)
    return len(layers)


def build_detector(cfg: Config):
    """The untrained detector of ``cfg``: its ``custom_imports`` imported, mmdet's scope set, the
    model built from the registry (no weights, no device)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings

    if cfg.get("custom_imports"):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get("default_scope", "mmdet"))
    return MODELS.build(cfg.model)


def build_model(cfg: Config, checkpoint: str | Path | None = None, device: str | None = None,
                *, strict: bool = False):
    """The model of ``cfg`` with weights from ``checkpoint`` (a path or URL), in eval mode, on
    ``device`` (default: CUDA when available, else CPU; see :func:`resolve_device`).

    Without a checkpoint the model is initialised by its ``init_weights`` (its ``init_cfg``, e.g. a
    pretrained backbone): some mmdet modules (DINO's level embeddings) allocate parameters with
    ``torch.empty`` and only ``init_weights`` gives them values. Weight standardisation is then set
    from the weights (:func:`init_weight_standardization`).

    ``strict``: a checkpoint that does not fit the model raises :class:`CheckpointMismatch`
    (mmengine only warns, and the model then runs with random weights where they are missing), one
    that cannot be read :class:`CheckpointError`.
    """
    from mmengine.runner import load_checkpoint

    from .checks import check_config
    from .engine import allow_mmengine_checkpoints, to_channels_last

    check_config(cfg)
    allow_mmengine_checkpoints()
    device = resolve_device(device)
    model = build_detector(cfg)
    if checkpoint is None:
        model.init_weights()
        init_weight_standardization(model)
    elif strict:
        from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

        try:
            ckpt = _load_checkpoint(str(checkpoint), map_location="cpu")
        except Exception as err:  # torch.load fails with anything from EOFError to KeyError
            raise CheckpointError(f"cannot read checkpoint {checkpoint}: {type(err).__name__}: "
                                  f"{err} (not a checkpoint, or a damaged one?)") from err
        if not isinstance(ckpt, dict):
            raise CheckpointError(f"checkpoint {checkpoint} holds no state dict")
        check_state_dict(model, ckpt.get("state_dict", ckpt), checkpoint, cfg.filename)
        _load_checkpoint_to_model(model, ckpt, strict=True)
        model.dataset_meta = (ckpt.get("meta") or {}).get("dataset_meta")
    else:
        load_checkpoint(model, str(checkpoint), map_location=device)
    return to_channels_last(model.to(device)).eval()


def _original_size_maps(record: dict[str, torch.Tensor], i: int, meta: dict) -> dict[str, np.ndarray]:
    """Crop one image's maps to its unpadded input and resize to the original image."""
    h, w = meta["img_shape"]
    oh, ow = meta["ori_shape"]
    out = {}
    for key in ("dmap", "mask", "recon"):
        if key not in record:
            continue
        m = record[key][i : i + 1, :, :h, :w].float()
        m = F.interpolate(m, size=(oh, ow), mode="bilinear" if key != "mask" else "nearest")
        out[key] = m[0].permute(1, 2, 0).squeeze(-1).cpu().numpy()
    return out


def build_loader(cfg: Config, split: str = "test"):
    """The ``split`` ('val' or 'test') dataloader of ``cfg``; ``loader.dataset.cat_ids`` maps
    label indices to the json's category ids."""
    from mmengine.runner import Runner

    return Runner.build_dataloader(cfg[f"{split}_dataloader"])


def iter_predictions(model, loader, *, record_maps: bool = False, limit: int | None = None,
                     progress: bool = True) -> Iterator[Prediction]:
    """Run ``model`` over ``loader`` (see :func:`build_loader`), one :class:`Prediction` per image."""
    from .models import record_intermediates

    total = len(loader.dataset) if limit is None else min(limit, len(loader.dataset))
    done = 0
    with tqdm(total=total, desc="predict", disable=not progress, unit="img") as bar:
        for batch in loader:
            ctx = record_intermediates(model) if record_maps else nullcontext([])
            with torch.no_grad(), ctx as records:
                samples = model.test_step(batch)
            for i, sample in enumerate(samples):
                inst = sample.pred_instances
                meta = sample.metainfo
                maps = _original_size_maps(records[0], i, meta) if records else {}
                yield Prediction(img_id=int(meta["img_id"]), img_path=meta["img_path"],
                                 bboxes=inst.bboxes.cpu().numpy(),
                                 scores=inst.scores.cpu().numpy(),
                                 labels=inst.labels.cpu().numpy(), maps=maps)
                done += 1
                bar.update(1)
                if limit is not None and done >= limit:
                    return


def predict_split(cfg: Config, checkpoint: str | Path, out_json: str | Path, split: str = "test",
                  *, device: str | None = None, progress: bool = True, strict: bool = False) -> Path:
    """Predict a whole split on ``device`` (see :func:`resolve_device`) and write COCO results
    json; returns its path. ``strict``: see :func:`build_model`."""
    model = build_model(cfg, checkpoint, device=device, strict=strict)
    loader = build_loader(cfg, split)
    predictions = list(iter_predictions(model, loader, progress=progress))
    cat_ids = list(loader.dataset.cat_ids)
    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(to_coco_results(predictions, cat_ids)))
    return out_json
