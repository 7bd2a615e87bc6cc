"""Formatting of :func:`~srtod.evaluation.evaluate_coco` results: paper-style tables and JSON.

Numbers are percentages with one decimal, as in the SR-TOD / AI-TOD tables; a bucket without
ground truth (NaN; pycocotools prints -1) is shown as ``-`` and written to JSON as ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def _fmt(value: float, digits: int) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def format_metrics(metrics: Mapping[str, float], digits: int = 1) -> dict[str, str]:
    """``{"AP": 39.0123, "APm": nan}`` -> ``{"AP": "39.0", "APm": "-"}``."""
    return {k: _fmt(float(v), digits) for k, v in metrics.items()}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def metrics_table(result: Mapping[str, Any], classwise: bool = False, digits: int = 1) -> str:
    """Text table of the summary metrics (one row) and, with ``classwise``, per-class AP."""
    metrics = format_metrics(result["metrics"], digits)
    text = [
        f"protocol: {result['protocol']}  images: {result['counts']['images']}  "
        f"ground truth: {result['counts']['gt']} (+{result['counts']['gt_crowd']} crowd)  "
        f"detections: {result['counts']['dets']}",
        "",
    ]
    ap = [k for k in metrics if k.startswith("AP")]
    ar = [k for k in metrics if k.startswith("AR")]
    text.append(_table(["", *ap], [["all classes", *(metrics[k] for k in ap)]]))
    text.append("")
    text.append(_table(["", *ar], [["all classes", *(metrics[k] for k in ar)]]))
    if classwise and result["per_class"]:
        names = list(next(iter(result["per_class"].values())))
        rows = [
            [cls, *format_metrics(vals, digits).values()]
            for cls, vals in result["per_class"].items()
        ]
        text += ["", _table(["class", *names], rows)]
    return "\n".join(text)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def result_to_json(result: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready summary (metrics, per-class AP, params, counts; no arrays; NaN -> null)."""
    keep = ("protocol", "iou_type", "metrics", "per_class", "params", "counts")
    return _json_safe({k: result[k] for k in keep if k in result})
