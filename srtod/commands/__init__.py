"""One module per ``python -m srtod`` verb: ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import sys


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device`` of every verb that runs a model."""
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or cuda:N (default: CUDA when available, else CPU)")


class _DatasetNames:
    """The data sets of :mod:`srtod.data.catalog`, listed when a help text is printed: importing
    :mod:`srtod.data` registers mmdet's datasets, seconds that every other ``--help`` skips."""

    def __str__(self) -> str:
        from ..data.catalog import CATALOG

        own = [f"{name}: {info.description}" for name, info in CATALOG.items() if not info.classes]
        return ", ".join(CATALOG) + (f" ({'; '.join(own)})" if own else "")


def add_dataset_argument(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` of the verbs that switch a config's data set; its help lists the catalog's."""
    action = parser.add_argument("--dataset", help="switch the data set: %(datasets)s")
    action.datasets = _DatasetNames()  # argparse fills %(name)s from the action's attributes


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
