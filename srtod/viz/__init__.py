"""Plotting for SR-TOD experiments: pure functions from arrays / DataFrames to matplotlib
Figures (paper Fig. 1, 3, 4 analogs and result statistics), plus :func:`save` to write PNGs."""

from ._common import save
from .detections import plot_large_frame, render_prediction
from .maps import choose_zoom, plot_difference_maps, plot_feature_comparison, plot_pd_vs_hfd
from .plots import (
    plot_coverage,
    plot_detection_changes,
    plot_paired_differences,
    plot_pr_curves,
    plot_seed_spread,
    plot_size_histogram,
    plot_training_curves,
    plot_val_curves,
)

__all__ = [
    "choose_zoom",
    "plot_coverage",
    "plot_detection_changes",
    "plot_difference_maps",
    "plot_feature_comparison",
    "plot_large_frame",
    "plot_paired_differences",
    "plot_pd_vs_hfd",
    "plot_pr_curves",
    "plot_seed_spread",
    "plot_size_histogram",
    "plot_training_curves",
    "plot_val_curves",
    "render_prediction",
    "save",
]
