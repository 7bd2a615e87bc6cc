"""Cost stage: parameters, FLOPs and inference time of the Tab. 1 detectors, without and with
SR-TOD, at the active profile's image size (``paper``: 800 x 1344), on the CPU or a GPU."""

from __future__ import annotations

import json

import pandas as pd

from ..paths import RESULTS
from .params import resolve_experiment
from .tables import to_markdown

PAPER_SIZE = (800, 1344)


def detector_pairs(params: dict) -> list[tuple[str, str, str]]:
    """(detector, baseline config, SR-TOD config) for every detector of Tab. 1 that the active
    profile trains (with or without SR-TOD)."""
    from .params import profile_groups

    trained = set(profile_groups(params["active"]))
    pairs = []
    for name, spec in params["experiments"].items():
        if "config" in spec and f"{name}_srtod" in params["experiments"] \
                and trained & {name, f"{name}_srtod"}:
            base = resolve_experiment(params, name)
            srtod = resolve_experiment(params, f"{name}_srtod")
            pairs.append((base.detector, base.config, srtod.config))
    return pairs


def cost_stage(params: dict, out=RESULTS / "cost", device: str | None = None) -> pd.DataFrame:
    """Measure on ``device`` (default: CUDA when available) and write
    ``results/cost/cost.{csv,md,json}``; returns the table."""
    from ..cost import cost_table

    size = params["active"]["data"].get("image_size")
    image_hw = (size, size) if size else PAPER_SIZE
    repeats = 1 if params["profile"] == "smoke" else 3
    table = cost_table(detector_pairs(params), image_hw, repeats=repeats, device=device)
    on_gpu = len(table) and str(table["device"].iloc[0]).startswith("cuda")
    where = "GPU" if on_gpu else "CPU, 2 threads"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "cost.csv", index=False)
    title = f"Cost at {image_hw[0]} x {image_hw[1]} ({where}, median of {repeats})"
    (out / "cost.md").write_text(to_markdown(table, title))
    (out / "cost.json").write_text(json.dumps(table.to_dict(orient="records"), indent=2) + "\n")
    return table
