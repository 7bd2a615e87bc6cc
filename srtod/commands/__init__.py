"""One module per ``python -m srtod`` verb: ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import sys


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device`` of every verb that runs a model."""
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or cuda:N (default: CUDA when available, else CPU)")


def device_of(args: argparse.Namespace) -> str | None:
    """The resolved ``--device``, or None after printing why it cannot be used (exit code 2).

    ``cpu`` also hides the GPUs from this process and those it spawns (mmengine's runner would
    take one otherwise); call it before anything initialises CUDA."""
    import os

    from ..inference import resolve_device

    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""

    try:
        return resolve_device(args.device)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def checkpoint_first(args: argparse.Namespace, verb: str) -> str | None:
    """``VERB CHECKPOINT [SOURCE]``: when the first positional is not a config (nor a
    model.onnx), it is the checkpoint, whose own settings are used; the positionals shift by one
    (``args.config`` becomes None). Returns an error message for a third positional."""
    from ..checkpoint import is_config

    if args.config is None or is_config(args.config) or args.config.lower().endswith(".onnx"):
        return None
    if getattr(args, "source", None) is not None:
        return (f"{args.config} is a checkpoint (not a config): {verb} CHECKPOINT [SOURCE], or "
                f"{verb} CONFIG CHECKPOINT [SOURCE]")
    if hasattr(args, "source"):
        args.source = args.checkpoint
    elif args.checkpoint is not None:
        return f"{args.config} is a checkpoint (not a config): {verb} CHECKPOINT, or {verb} CONFIG CHECKPOINT"
    args.config, args.checkpoint = None, args.config
    return None
