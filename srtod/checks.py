"""Checks of a config before mmdet runs it, for mistakes mmdet reports with an unrelated error."""

from __future__ import annotations

import math

from mmengine.config import Config

#: DETRs whose encoder proposes queries by a top-k over its tokens (mmdet 3.x)
TOPK_DETRS = ("DINO", "DeformableDETR")


def _detector(model: dict) -> str:
    return str(model.get("detector") if model.get("type") == "SRTOD" else model.get("type"))


def _input_sizes(cfg: Config) -> list[tuple[int, int]]:
    """(H, W) of every ``Resize`` scale in the dataloaders' pipelines (mmdet writes W, H)."""
    sizes = []
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        dataset = (cfg.get(key) or {}).get("dataset") or {}
        for step in dataset.get("pipeline") or []:
            if step.get("type") == "Resize" and step.get("scale"):
                scale = step["scale"]
                w, h = (scale, scale) if isinstance(scale, int) else scale
                sizes.append((int(h), int(w)))
    return sizes


def encoder_tokens(model: dict, hw: tuple[int, int]) -> int:
    """Tokens of a DETR encoder on an (H, W) input: one per pixel of each feature level. The
    levels are the ResNet-style backbone's ``out_indices`` (stride 4 * 2^i) and, if the neck has
    more outputs, extra levels of twice the previous stride."""
    indices = model.get("backbone", {}).get("out_indices", (1, 2, 3))
    strides = [4 * 2 ** i for i in indices]
    extra = model.get("neck", {}).get("num_outs", len(strides)) - len(strides)
    strides += [strides[-1] * 2 ** (k + 1) for k in range(max(0, extra))]
    return sum(math.ceil(hw[0] / s) * math.ceil(hw[1] / s) for s in strides)


def check_detr_queries(cfg: Config) -> None:
    """A two-stage DETR (DINO) takes ``num_queries`` of its encoder's tokens: on a small input
    there are fewer, and mmdet stops with "selected index k out of range" inside ``topk``. Raise
    a ValueError that names the limit and the fix instead (nothing is checked for other models,
    or where the input size is not fixed by a ``Resize``)."""
    model = cfg.get("model") or {}
    detector = _detector(model)
    if detector not in TOPK_DETRS or (detector == "DeformableDETR"
                                      and not model.get("as_two_stage")):
        return
    queries = int(model.get("num_queries", 900))
    for hw in _input_sizes(cfg):
        tokens = encoder_tokens(model, hw)
        if tokens >= queries:
            continue
        side = next(s for s in range(8, 100_000, 8) if encoder_tokens(model, (s, s)) >= queries)
        raise ValueError(
            f"{cfg.filename}: {detector} selects num_queries={queries} of its encoder's tokens, "
            f"but a {hw[1]}x{hw[0]} input gives only {tokens} (mmdet would stop with 'selected "
            f"index k out of range'). Use inputs of at least {side}x{side} px (--image-size) or "
            f"set model.num_queries <= {tokens} (--cfg-options model.num_queries={tokens}).")


def check_config(cfg: Config) -> None:
    """Every check of this module (called before training and before building a model)."""
    check_detr_queries(cfg)


__all__ = ["check_config", "check_detr_queries", "encoder_tokens"]
