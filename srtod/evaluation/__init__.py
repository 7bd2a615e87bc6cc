"""Evaluation: AI-TOD/COCO/VisDrone box metrics and difference-map coverage.

``evaluate_coco`` and friends need only numpy + faster-coco-eval; ``AITODMetric`` (the mmengine
metric for configs) is imported on first access, so this package works without mmdet.
"""

from __future__ import annotations

from typing import Any

from .coco_eval import evaluate_coco, pr_curves, summarize_arrays
from .coverage import coverage_table, difference_map_coverage
from .formatting import format_metrics, metrics_table, result_to_json
from .inputs import EvaluationInputError
from .protocols import PROTOCOLS, AreaRange, Protocol, get_protocol

__all__ = [
    "AITODMetric",
    "AreaRange",
    "EvaluationInputError",
    "PROTOCOLS",
    "Protocol",
    "coverage_table",
    "difference_map_coverage",
    "evaluate_coco",
    "format_metrics",
    "get_protocol",
    "metrics_table",
    "pr_curves",
    "result_to_json",
    "summarize_arrays",
]


def __getattr__(name: str) -> Any:
    if name == "AITODMetric":  # needs mmdet/mmengine: import (and register) on first use
        from .metric import AITODMetric

        return AITODMetric
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
