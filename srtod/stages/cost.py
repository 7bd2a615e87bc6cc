"""Cost stage: parameters, FLOPs and inference time of the Tab. 1 detectors, without and with
SR-TOD, at the active profile's image size (``paper``: 800 x 1344), on the CPU or a GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..paths import output_dir
from .markdown import to_markdown
from .params import (
    ablation_detector,
    experiment_config,
    experiment_parent,
    profile_groups,
    resolve_experiment,
    synthetic_image_size,
)

PAPER_SIZE = (800, 1344)
REPEATS = 15  # timed runs per model: enough for a 96.5% interval of the median paired ratio


def head_variants(params: dict) -> list[str]:
    """The experiments of the active profile that change SR-TOD's reconstruction head: an
    ablation whose config sets ``model.srtod.recon_head``."""
    variants = []
    for name in profile_groups(params["active"]):
        if experiment_parent(params, name) is None:
            continue  # a detector of its own: the paper's head
        srtod = experiment_config(resolve_experiment(params, name)).model.get("srtod")
        if (srtod or {}).get("recon_head"):
            variants.append(name)
    return variants


def recon_head_costs(params: dict, image_hw: tuple[int, int], repeats: int,
                     device: str | None = None) -> pd.DataFrame | None:
    """Params, GFLOPs and time, interleaved (:func:`srtod.complexity.interleaved_costs`), of the
    ablation detector without SR-TOD, with the paper's head and with every head variant the
    profile trains; None when it trains none."""
    from ..complexity import interleaved_costs

    variants = head_variants(params)
    if not variants:
        return None
    det = ablation_detector(params)
    names = [det, f"{det}_srtod", *variants]
    cfgs = {n: experiment_config(resolve_experiment(params, n)) for n in names}
    stats = interleaved_costs(cfgs, image_hw, repeats=repeats, device=device)
    return pd.DataFrame([dict(experiment=n, params_M=s["params"] / 1e6, gflops=s["gflops"],
                              time_ms=s["time_ms"], time_ratio=s["time_ratio"],
                              time_ratio_low=s["time_ratio_low"],
                              time_ratio_high=s["time_ratio_high"])
                         for n, s in stats.items()])


def detector_pairs(params: dict) -> list[tuple[str, str, str]]:
    """(detector, baseline config, SR-TOD config) for every detector of Tab. 1 that the active
    profile trains (with or without SR-TOD)."""
    trained = set(profile_groups(params["active"]))
    pairs = []
    for name, spec in params["experiments"].items():
        if spec.get("detector") and f"{name}_srtod" in params["experiments"] \
                and trained & {name, f"{name}_srtod"}:
            base = resolve_experiment(params, name)
            srtod = resolve_experiment(params, f"{name}_srtod")
            pairs.append((base.detector, base.config, srtod.config))
    return pairs


def cost_stage(params: dict, out: Path | None = None, device: str | None = None) -> pd.DataFrame:
    """Measure on ``device`` (default: CUDA when available) and write ``cost.{csv,md,json}`` to
    ``out`` (default: ``results/cost``); returns the table."""
    out = Path(out) if out else output_dir("cost")
    from ..complexity import cost_table

    size = synthetic_image_size(params)
    image_hw = (size, size) if size else PAPER_SIZE
    repeats = 1 if params["profile"] == "smoke" else REPEATS
    table = cost_table(detector_pairs(params), image_hw, repeats=repeats, device=device)
    on_gpu = len(table) and str(table["device"].iloc[0]).startswith("cuda")
    where = "GPU" if on_gpu else "CPU, 2 threads"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "cost.csv", index=False)
    title = (f"Cost at {image_hw[0]} x {image_hw[1]} ({where}, median of {repeats} interleaved "
             f"runs; time_ratio: median of the paired per-run ratios, with its 95% interval)")
    (out / "cost.md").write_text(to_markdown(table, title))
    (out / "cost.json").write_text(json.dumps(table.to_dict(orient="records"), indent=2) + "\n")
    heads = recon_head_costs(params, image_hw, repeats, device)
    if heads is not None:
        heads.to_csv(out / "recon_heads.csv", index=False)
        (out / "recon_heads.md").write_text(to_markdown(
            heads, f"Reconstruction heads at {image_hw[0]} x {image_hw[1]} ({where}, median of "
            f"{repeats} interleaved runs; time_ratio: median of the paired per-run ratios to the "
            f"baseline, with its 95% interval)"))
    return table
