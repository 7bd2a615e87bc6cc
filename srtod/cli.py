"""``python -m srtod <verb>``: every capability the notebooks use, as a command.

Each verb lives in ``srtod/commands/<verb>.py`` and defines ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their verb runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .commands.pipeline import STAGES

#: verb -> one-line help. The module ``srtod.commands.<verb>`` implements it.
COMMANDS: dict[str, str] = {
    "generate": "generate the embedded synthetic anti-UAV data set (COCO format)",
    "convert": "convert VisDrone2019-DET annotations to COCO json",
    "validate": "check a COCO data set (images, boxes, ids) and write a fix/skip report",
    "stats": "object-size statistics per split (AI-TOD size buckets)",
    "train": "train a detector from an srtod/mmdet config (resumes from the last checkpoint)",
    "evaluate": "evaluate detections (COCO results json) with the AI-TOD/COCO/VisDrone protocol",
    "predict": "detect on images, a folder, a glob or a video (or a data set's split): COCO json, "
               "CSV and visualisations",
    "export": "export a trained detector to ONNX (model.onnx + model.json) for ONNX Runtime",
    "threshold": "choose DGFE's threshold t for a data set from a trained model's difference maps",
    "study": "a study (the threshold study, the ImageNet start's rows): record finished runs, "
             "rebuild its tables from the records",
    "benchmark": "parameters, FLOPs and inference time (CPU/GPU) of detectors with and without SR-TOD",
    "probe": "train 24 steps of the default's configs and compare the fingerprint of data, losses "
             "and weights with the reference (is this machine bitwise reproducible?)",
    "verify": "re-train the first epochs of a published run and compare its weights bit for bit",
    "pipeline": f"one stage of the DVC pipeline, or publish ({', '.join(STAGES)})",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m srtod", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for verb, help_text in COMMANDS.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        build_parser().parse_args(argv)  # prints usage / error and exits
        return 2
    module, args = parse(argv)
    return int(module.run(args) or 0)


def parse(argv: list[str]):
    """(command module, its parsed arguments) of ``[verb, *arguments]``; options may come before
    or after positional lists (``pipeline train --profile full run_a run_b``)."""
    verb = argv[0]
    module = importlib.import_module(f"srtod.commands.{verb}")
    parser = argparse.ArgumentParser(prog=f"python -m srtod {verb}", description=COMMANDS[verb])
    module.add_arguments(parser)
    return module, parser.parse_intermixed_args(argv[1:])
