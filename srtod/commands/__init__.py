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
