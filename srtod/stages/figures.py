"""The paper's figures from trained models and results (Fig. 1, 3, 4 analogs, curves, coverage).

The maps come from one forward pass per image with :func:`srtod.models.record_intermediates`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..paths import FIGURES, TABLES, output_dir, run_dir
from .params import ablation_detector, resolve_experiment, trained

log = logging.getLogger(__name__)


def load_trained(params: dict, name: str, device: str | None = None):
    """(cfg, model) of a trained experiment on ``device`` (default: CUDA when available), or None
    when it was not trained in this profile."""
    from ..inference import build_model

    run = trained(resolve_experiment(params, name))
    return None if run is None else (run[0], build_model(run[0], run[1], device=device))


def _heatmap(feat: torch.Tensor) -> np.ndarray:
    """Channel mean of |features| of one image: (C, h, w) -> (h, w)."""
    return feat.abs().mean(0).cpu().numpy()


def forward_maps(model, batch: dict) -> dict[str, np.ndarray]:
    """Image, GT boxes and finest-level maps of the first image of ``batch``, at network-input
    resolution and cropped to the unpadded image. SR-TOD models add recon, dmap, mask and the
    enhanced level; every model gives ``level`` (its finest level as the head sees it)."""
    from ..models import SelfReconstruction, input_to_unit_range, record_intermediates

    data = model.data_preprocessor(batch, False)
    sample = data["data_samples"][0]
    h, w = sample.metainfo["img_shape"]
    is_srtod = any(isinstance(m, SelfReconstruction) for m in model.modules())
    with torch.no_grad():
        if is_srtod:
            with record_intermediates(model) as records:
                model.extract_feat(data["inputs"])
            rec = records[0]
        else:
            rec = {"feat": model.extract_feat(data["inputs"])[0]}
    image = input_to_unit_range(data["inputs"], model.data_preprocessor)[0, :, :h, :w]
    scale = np.asarray(sample.metainfo.get("scale_factor", (1.0, 1.0)), dtype=float)
    boxes = sample.gt_instances.bboxes.cpu().numpy() * np.tile(scale, 2)
    out = {"image": (image.permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8), "boxes": boxes,
           "enhanced": _heatmap(rec["feat"][0])}
    if is_srtod:
        out["level"] = _heatmap(rec["level"][0])
        out["recon"] = rec["recon"][0, :, :h, :w].permute(1, 2, 0).cpu().numpy()
        out["dmap"] = rec["dmap"][0, 0, :h, :w].cpu().numpy()
        if "mask" in rec:
            out["mask"] = rec["mask"][0, 0, :h, :w].cpu().numpy()
    return out


def _batches(cfg, n: int):
    from ..inference import build_loader

    loader = build_loader(cfg, "test")
    for i, batch in enumerate(loader):
        if i >= n:
            break
        yield batch


def _crop(arr: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return arr[y0:y1, x0:x1]


def _scaled_crop(feat: np.ndarray, shape: tuple[int, int], box) -> np.ndarray:
    """Crop a level-resolution heatmap with an image-resolution box."""
    sy, sx = feat.shape[0] / shape[0], feat.shape[1] / shape[1]
    x0, y0, x1, y1 = box
    return feat[int(y0 * sy):max(int(np.ceil(y1 * sy)), int(y0 * sy) + 1),
                int(x0 * sx):max(int(np.ceil(x1 * sx)), int(x0 * sx) + 1)]


def make_figures(params: dict, out: Path = FIGURES, device: str | None = None) -> list[Path]:
    """Write every figure the active profile can make (models run on ``device``, default: CUDA
    when available); returns their paths."""
    from ..viz import (
        choose_zoom,
        plot_coverage,
        plot_difference_maps,
        plot_feature_comparison,
        plot_paired_differences,
        plot_pd_vs_hfd,
        plot_pr_curves,
        plot_seed_spread,
        plot_training_curves,
        plot_val_curves,
        save,
    )
    from .params import profile_groups
    from .tables import seed_table

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    n = params["active"].get("figures", {}).get("num_images", 2)
    det = ablation_detector(params)
    srtod, base, hfd = (load_trained(params, x, device) for x in (f"{det}_srtod", det, "diff_highfreq"))
    if srtod is not None:
        from ..threshold_choice import measure_threshold

        # the threshold curve of the SR-TOD run (seed 0), validation split
        checkpoint = trained(resolve_experiment(params, f"{det}_srtod"))[1]
        measure_threshold(srtod[0], checkpoint, out / "threshold",
                          split="val", device=device, model=srtod[1])
        written.append(out / "threshold" / "threshold_curve.png")
        crops, feats_base, feats_srtod, crop_boxes = [], [], [], []
        for i, batch in enumerate(_batches(srtod[0], n)):
            maps = forward_maps(srtod[1], batch)
            if "mask" not in maps:
                continue
            shape = maps["image"].shape[:2]
            side = max(48, min(shape) // 3)
            zoom = choose_zoom(maps["boxes"], shape, side)
            fig = plot_difference_maps(maps["image"], maps["boxes"], maps["recon"], maps["dmap"],
                                       maps["mask"], maps["level"], zoom=zoom,
                                       title=f"{det} w/ SR-TOD, test image {i}")
            written.append(save(fig, out / f"fig1_difference_map_{i}.png"))
            if hfd is not None:
                hf = forward_maps(hfd[1], batch)
                fig = plot_pd_vs_hfd(maps["image"], maps["boxes"], maps["dmap"], hf["dmap"],
                                     zoom=zoom)
                written.append(save(fig, out / f"fig3_pd_vs_hfd_{i}.png"))
            if base is not None:
                bmaps = forward_maps(base[1], batch)
                crops.append(_crop(maps["image"], zoom))
                feats_base.append(_scaled_crop(bmaps["enhanced"], shape, zoom))
                feats_srtod.append(_scaled_crop(maps["enhanced"], shape, zoom))
                x0, y0 = zoom[:2]
                crop_boxes.append(maps["boxes"] - np.array([x0, y0, x0, y0]))
        if crops:
            fig = plot_feature_comparison(crops, feats_base, feats_srtod, crop_boxes)
            written.append(save(fig, out / "fig4_features_without_with_srtod.png"))
    curves, val_curves, run_group = {}, {}, {}
    for group, runs in profile_groups(params["active"]).items():
        for seed, run in runs.items():
            path = run_dir("train", run)
            if seed == min(runs) and (path / "curves.csv").is_file():  # losses: one seed suffices
                df = pd.read_csv(path / "curves.csv")
                if len(df):
                    curves[group] = df
            if (path / "val_curve.csv").is_file():
                df = pd.read_csv(path / "val_curve.csv")
                if len(df):
                    val_curves[run], run_group[run] = df, group
    if curves:
        written.append(save(plot_training_curves(curves), out / "training_curves.png"))
    if val_curves:
        written.append(save(plot_val_curves(val_curves, run_group), out / "val_ap_curves.png"))
    compare = TABLES / "compare.csv"
    if compare.is_file() and compare.stat().st_size > 1:
        df = pd.read_csv(compare)
        if len(df):
            written.append(save(plot_paired_differences(df), out / "paired_differences.png"))
    pr = {}
    for name in (det, f"{det}_srtod", "rh_only"):
        path = run_dir("eval", name) / "pr.csv"
        if path.is_file():
            pr[name] = pd.read_csv(path)
    if pr:
        written.append(save(plot_pr_curves(pr), out / "pr_curves_by_size.png"))
    cov = [pd.read_csv(p) for p in sorted(output_dir("eval").glob("*/coverage.csv"))]
    cov = [c for c in cov if len(c)]
    if cov:
        written.append(save(plot_coverage(pd.concat(cov, ignore_index=True)),
                            out / "difference_map_coverage.png"))
    long, _ = seed_table(params)
    if len(long) and long["run"].nunique() > long["experiment"].nunique():
        written.append(save(plot_seed_spread(long), out / "seed_spread.png"))
    return written
