"""Tests for srtod.viz: every plotting function on small synthetic inputs (fast, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import srtod.viz as viz  # noqa: E402
from srtod.viz import (  # noqa: E402
    choose_zoom,
    plot_coverage,
    plot_difference_maps,
    plot_feature_comparison,
    plot_pd_vs_hfd,
    plot_pr_curves,
    plot_seed_spread,
    plot_size_histogram,
    plot_training_curves,
    save,
)

# --------------------------------------------------------------------------- helpers


def plain_axes(fig: Figure) -> list:
    """Axes that are not colorbars."""
    return [a for a in fig.axes if a.get_label() != "<colorbar>"]


def colorbars(fig: Figure) -> list:
    return [a for a in fig.axes if a.get_label() == "<colorbar>"]


def all_text(fig: Figure) -> str:
    """Every string drawn in the figure (titles, labels, texts, legends, suptitle)."""
    parts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(parts)


def centres_in(zoom, boxes) -> int:
    x0, y0, x1, y1 = zoom
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return int(((cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)).sum())


def square_boxes(centres, side=6.0) -> np.ndarray:
    c = np.asarray(centres, float)
    return np.hstack([c - side / 2, c + side / 2])


@pytest.fixture(scope="module")
def scene():
    """A 96x128 image with 6 tiny dark boxes (4 clustered near x=100, y=20) and the maps."""
    rng = np.random.default_rng(0)
    h, w = 96, 128
    img = np.full((h, w, 3), 170, np.uint8) + rng.integers(0, 20, (h, w, 3), dtype=np.uint8)
    boxes = square_boxes([[95, 15], [105, 18], [100, 28], [110, 25], [20, 70], [60, 80]])
    for x1, y1, x2, y2 in boxes.astype(int):
        img[y1:y2, x1:x2] = 20
    recon = np.full((h, w, 3), 0.7)
    dmap = np.abs(recon - img / 255.0).mean(axis=2)
    mask = dmap > 0.3
    feature = rng.random((h // 4, w // 4))
    return dict(image=img, boxes=boxes, recon=recon, dmap=dmap, mask=mask, feature=feature)


# --------------------------------------------------------------------------- save / exports


def test_exports():
    for name in ("plot_difference_maps", "plot_pd_vs_hfd", "plot_feature_comparison",
                 "choose_zoom", "plot_size_histogram", "plot_training_curves",
                 "plot_pr_curves", "plot_coverage", "plot_seed_spread", "save"):
        assert name in viz.__all__
        assert callable(getattr(viz, name))


def test_save_writes_png_of_expected_size(tmp_path, scene):
    fig = plot_pd_vs_hfd(scene["image"], scene["boxes"], scene["dmap"], scene["dmap"] ** 2)
    w_in, h_in = fig.get_size_inches()
    out = save(fig, tmp_path / "sub" / "fig3.png")
    assert out.exists() and out.stat().st_size > 1000
    with Image.open(out) as im:
        assert im.format == "PNG"
        w, h = im.size
    # 120 dpi: within a factor of 2 of figsize * 120 (constrained layout keeps the canvas size)
    assert 0.5 * w_in * 120 < w < 2 * w_in * 120
    assert 0.5 * h_in * 120 < h < 2 * h_in * 120


# --------------------------------------------------------------------------- choose_zoom


def test_choose_zoom_finds_known_cluster():
    boxes = square_boxes([[250, 40], [260, 55], [245, 60], [270, 45], [255, 35],  # cluster
                          [30, 250], [150, 150], [60, 60]])
    zoom = choose_zoom(boxes, (300, 300), size=60)
    x0, y0, x1, y1 = zoom
    assert (x1 - x0, y1 - y0) == (60, 60)
    assert 0 <= x0 < x1 <= 300 and 0 <= y0 < y1 <= 300
    assert centres_in(zoom, boxes) == 5
    # centred on the cluster (centroid 256, 47) as far as the image edge allows
    assert abs((x0 + x1) / 2 - 256) <= 3 and abs((y0 + y1) / 2 - 47) <= 3


def test_choose_zoom_is_optimal_on_random_boxes():
    rng = np.random.default_rng(1)
    h, w, size = 120, 160, 40
    boxes = square_boxes(rng.uniform([0, 0], [w, h], (25, 2)), side=4)
    zoom = choose_zoom(boxes, (h, w), size=size)
    best = max(
        centres_in((x, y, x + size, y + size), boxes)
        for x in range(w - size + 1)
        for y in range(h - size + 1)
    )
    assert centres_in(zoom, boxes) == best
    assert zoom[2] <= w and zoom[3] <= h and zoom[0] >= 0 and zoom[1] >= 0


def test_choose_zoom_large_image_coarse_grid():
    boxes = square_boxes([[1700, 300], [1710, 320], [1690, 310], [200, 1200]])
    zoom = choose_zoom(boxes, (1500, 2000, 3))  # default size: 500 px
    assert zoom[2] - zoom[0] == 500 and zoom[3] - zoom[1] == 500
    assert centres_in(zoom, boxes) == 3
    assert zoom[2] <= 2000 and zoom[3] <= 1500


def test_choose_zoom_without_boxes_and_small_image():
    assert choose_zoom(np.zeros((0, 4)), (100, 200), size=50) == (75, 25, 125, 75)
    assert choose_zoom(None, (100, 200), size=50) == (75, 25, 125, 75)
    # default size at least 48 px, but never larger than the image
    assert choose_zoom(None, (30, 40)) == (0, 0, 40, 30)
    x0, y0, x1, y1 = choose_zoom(None, (90, 90))
    assert x1 - x0 == 48 and y1 - y0 == 48


# --------------------------------------------------------------------------- maps (Fig. 1, 3, 4)


def test_plot_difference_maps_panels(scene):
    fig = plot_difference_maps(scene["image"], scene["boxes"], scene["recon"], scene["dmap"],
                               scene["mask"], scene["feature"], title="demo")
    assert isinstance(fig, Figure)
    axes = plain_axes(fig)
    assert len(axes) == 6 and len(colorbars(fig)) == 2
    titles = [a.get_title() for a in axes]
    assert [t[:2] for t in titles] == ["a)", "b)", "c)", "d)", "e)", "f)"]
    assert "6 GT boxes" in titles[0]
    assert all(cb.get_ylabel() for cb in colorbars(fig))
    assert "demo" in fig._suptitle.get_text()
    # automatic zoom: default 48 px window on the 4-box cluster, shared by panels b-f
    zoom = choose_zoom(scene["boxes"], scene["image"].shape)
    assert centres_in(zoom, scene["boxes"]) == 4
    for a in axes[1:]:
        assert a.get_xlim() == (zoom[0], zoom[2])
        assert a.get_ylim() == (zoom[3], zoom[1])  # image y axis points down
    # GT boxes on b-f (6 boxes each, some outside the view); zoom + 6 boxes on a
    assert all(len(a.patches) == 6 for a in axes[1:])
    assert len(axes[0].patches) == 7


def test_plot_difference_maps_explicit_zoom_no_boxes(scene):
    fig = plot_difference_maps(scene["image"], np.zeros((0, 4)), scene["recon"], scene["dmap"],
                               scene["mask"].astype(float), scene["feature"],
                               zoom=(-10, 10, 50, 200))
    axes = plain_axes(fig)
    assert axes[1].get_xlim() == (0, 50) and axes[1].get_ylim() == (96, 10)  # clipped
    assert "0 GT boxes" in axes[0].get_title()
    assert all(len(a.patches) == 0 for a in axes[1:])


def test_plot_difference_maps_rejects_bad_shapes(scene):
    with pytest.raises(ValueError, match="dmap"):
        plot_difference_maps(scene["image"], scene["boxes"], scene["recon"],
                             scene["dmap"][:10], scene["mask"], scene["feature"])


def test_plot_pd_vs_hfd(scene):
    fig = plot_pd_vs_hfd(scene["image"], scene["boxes"], scene["dmap"], scene["dmap"] ** 2,
                         zoom=(80, 0, 128, 48))
    axes = plain_axes(fig)
    assert len(axes) == 3 and len(colorbars(fig)) == 2
    titles = " ".join(a.get_title() for a in axes)
    assert "pixel difference" in titles and "high-frequency" in titles
    assert all(a.get_xlim() == (80, 128) for a in axes)
    assert all(len(a.patches) == 6 for a in axes)
    plot_pd_vs_hfd(scene["image"], None, scene["dmap"], scene["dmap"])  # no boxes, auto zoom


def test_plot_feature_comparison_shared_scale():
    rng = np.random.default_rng(2)
    crops = [rng.integers(0, 255, (32, 40, 3), dtype=np.uint8) for _ in range(3)]
    base = [rng.random((8, 10)) for _ in range(3)]
    sr = [b * 3 + 1 for b in base]
    boxes = [square_boxes([[10, 10]]), None, np.zeros((0, 4))]
    fig = plot_feature_comparison(crops, base, sr, boxes)
    axes = plain_axes(fig)
    assert len(axes) == 9 and len(colorbars(fig)) == 3
    grid = np.array(axes).reshape(3, 3)
    assert [grid[i, 0].get_ylabel() for i in range(3)] == ["input", "w/o SR-TOD", "w/ SR-TOD"]
    for j in range(3):
        clim_base = grid[1, j].images[0].get_clim()
        assert clim_base == grid[2, j].images[0].get_clim()
        # one scale for both rows: spans the baseline's low values and SR-TOD's high ones
        assert base[j].min() - 1e-6 <= clim_base[0] < base[j].max()
        assert base[j].max() + 1 < clim_base[1] <= sr[j].max() + 1e-6
        assert grid[1, j].images[0].get_array().shape == (32, 40)  # resized to the crop
    assert len(grid[0, 0].patches) == 1 and len(grid[0, 1].patches) == 0
    assert all(cb.get_xlabel() for cb in colorbars(fig))


def test_plot_feature_comparison_single_and_errors():
    fig = plot_feature_comparison([np.zeros((16, 16, 3), np.uint8)], [np.ones((4, 4))],
                                  [np.ones((4, 4))])  # constant map: no zero-width scale
    assert len(plain_axes(fig)) == 3
    with pytest.raises(ValueError):
        plot_feature_comparison([], [], [])
    with pytest.raises(ValueError):
        plot_feature_comparison([np.zeros((8, 8, 3))], [], [np.ones((2, 2))])


# --------------------------------------------------------------------------- plots


def test_plot_size_histogram_buckets_and_counts():
    sizes = pd.DataFrame({"size": [2, 5, 9, 10, 12, 20, 33, 7, 15],
                          "split": ["train"] * 7 + ["val"] * 2})
    fig = plot_size_histogram(sizes)
    (ax,) = plain_axes(fig)
    assert ax.get_xlim() == (0, 40)
    assert ax.get_title() and "px" in ax.get_xlabel() and "%" in ax.get_ylabel()
    text = all_text(fig)
    for expected in ("very tiny (<8 px)", "tiny (8-16 px)", "small (16-32 px)",
                     "medium (\u226532 px)", "train: 2 (29%)", "train: 3 (43%)", "val: 1 (50%)"):
        assert expected in text
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"train (n=7)", "val (n=2)"}


def test_plot_size_histogram_wide_range_and_empty():
    sizes = pd.DataFrame({"size": np.linspace(1, 200, 400)})  # no split column
    (ax,) = plain_axes(plot_size_histogram(sizes))
    assert ax.get_xlim()[1] >= np.percentile(sizes["size"], 99)
    (ax,) = plain_axes(plot_size_histogram(pd.DataFrame({"size": [], "split": []})))
    assert "no boxes" in all_text(ax.figure) and ax.get_xlim() == (0, 40)


def test_plot_training_curves():
    it = np.arange(0, 200, 2)
    curves = {
        "baseline": pd.DataFrame({"iter": it, "loss": 1 / (1 + it), "loss_rec": np.nan}),
        "srtod": pd.DataFrame({"iter": it, "loss": 1.1 / (1 + it), "loss_rec": 0.1 / (1 + it),
                               "srtod_t": 0.0156, "srtod_on": 0.002, "lr": 0.01}),
    }
    fig = plot_training_curves(curves)
    axes = plain_axes(fig)
    assert len(axes) == 4
    assert "total loss" in axes[0].get_title() and "threshold t" in axes[2].get_title()
    assert "constant" in axes[2].get_title() and "srtod (t = 0.0156)" in axes[2].get_title()
    assert all(a.get_xlabel() == "iteration" and a.get_ylabel() for a in axes)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["baseline", "srtod"]
    assert len(axes[1].lines) >= 1  # baseline's all-NaN loss_rec is skipped, srtod drawn
    assert "D_b switches on" in axes[3].get_title() and len(axes[3].lines) >= 1


def test_plot_training_curves_all_nan_and_single():
    fig = plot_training_curves({"only": pd.DataFrame({"iter": [0, 1], "loss": [np.nan] * 2})})
    axes = plain_axes(fig)
    assert len(axes) == 4 and all(len(a.lines) == 0 for a in axes)
    assert all_text(fig).count("no '") == 4 and not fig.legends
    fig = plot_training_curves({"one": pd.DataFrame({"iter": [5], "loss": [1.0],
                                                     "srtod_t": [0.02]})})
    assert len(plain_axes(fig)[0].lines) == 1
    assert "constant" not in plain_axes(fig)[2].get_title()  # one point is not "constant"


def _pr(buckets=("all", "vt", "t", "s", "m"), level=0.5, nan_buckets=("m",)) -> pd.DataFrame:
    rec = np.linspace(0, 1, 101)
    frames = []
    for b in buckets:
        p = np.where(rec <= 0.6, level, 0.0) if b not in nan_buckets else np.full(101, np.nan)
        frames.append(pd.DataFrame({"bucket": b, "recall": rec, "precision_50": p,
                                    "precision_50_95": p / 2}))
    return pd.concat(frames, ignore_index=True)


def test_plot_pr_curves():
    fig = plot_pr_curves({"base": _pr(level=0.5), "srtod": _pr(level=0.8)})
    axes = plain_axes(fig)
    assert [a.get_title() for a in axes] == ["all sizes", "very tiny (<8 px)", "tiny (8-16 px)",
                                             "small (16-32 px)", "medium (\u226532 px)"]
    assert len(axes[0].lines) == 2 and len(axes[4].lines) == 0
    assert "no ground truth" in " ".join(t.get_text() for t in axes[4].texts)
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    ap = 100 * 0.5 * 61 / 101  # precision 0.5 on the 61 recall points <= 0.6
    assert labels[0] == f"base (AP50 {ap:.1f})"
    assert axes[0].get_ylabel() == "precision @ IoU 0.5" and axes[0].get_xlabel() == "recall"


def test_plot_pr_curves_single_experiment_subset_of_buckets():
    fig = plot_pr_curves({"solo": _pr(buckets=("vt", "all"), nan_buckets=())})
    axes = plain_axes(fig)
    assert [a.get_title() for a in axes] == ["all sizes", "very tiny (<8 px)"]  # ordered


def _coverage(experiments=("baseline", "srtod")) -> pd.DataFrame:
    rows = []
    for k, exp in enumerate(experiments):
        for b, t, c in (("vt", 0.9, 0.5), ("t", 0.7, 0.3), ("s", 0.5, 0.2), ("m", np.nan, np.nan)):
            rows.append(dict(experiment=exp, bucket=b, touched=t - 0.1 * k, covered=c,
                             background=0.02 + 0.01 * k))
    return pd.DataFrame(rows)


def test_plot_coverage():
    fig = plot_coverage(_coverage())
    axes = plain_axes(fig)
    assert len(axes) == 2
    ax = axes[0]
    assert ax.get_title().startswith("baseline") and "2.0%" in ax.get_title()
    heights = [p.get_height() for p in ax.patches]
    assert heights[:4] == pytest.approx([90, 70, 50, 0])  # touched (%), NaN bucket -> 0
    assert heights[4:8] == pytest.approx([50, 30, 20, 0])  # covered (%)
    bg_lines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(bg_lines) == 1 and bg_lines[0].get_ydata()[0] == pytest.approx(2.0)
    text = all_text(fig)
    assert "25.0\u00d7bg" in text and "no boxes" in text  # 50% covered vs 2% background
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "very tiny\n(<8 px)"
    assert ax.get_ylabel() and fig.legends


def test_plot_coverage_single_experiment_and_many():
    assert len(plain_axes(plot_coverage(_coverage(("solo",))))) == 1
    fig = plot_coverage(_coverage(tuple("abcd")))  # 4 experiments: 2 rows x 3, 2 removed
    assert len(plain_axes(fig)) == 4


def test_plot_seed_spread():
    rng = np.random.default_rng(3)
    df = pd.DataFrame([dict(experiment=e, seed=s, metric=m, value=v + rng.normal(0, 0.2))
                       for e, v in (("cascade", 36.4), ("srtod", 38.3)) for s in range(3)
                       for m in ("AP", "AP_vt")])
    fig = plot_seed_spread(df)
    axes = plain_axes(fig)
    assert [a.get_ylabel() for a in axes] == ["AP", "AP_vt"]
    assert all("mean" in a.get_title() for a in axes)
    sub = df[(df.metric == "AP") & (df.experiment == "srtod")]["value"]
    assert f"{sub.mean():.2f} \u00b1 {sub.std():.2f}" in all_text(fig)
    ticks = [t.get_text() for t in axes[0].get_xticklabels()]
    assert ticks == ["cascade", "srtod"]


def test_plot_seed_spread_single_seed_and_metric_choice():
    df = pd.DataFrame({"experiment": ["a"], "seed": [0], "metric": ["AP"], "value": [30.0]})
    fig = plot_seed_spread(df, metrics=["AP", "AP_vt"])
    axes = plain_axes(fig)
    assert len(axes) == 2
    assert "30.00\n(n=1)" in all_text(fig)
    assert "no values for AP_vt" in all_text(fig)


def test_plot_detection_changes_points_are_differences_and_empty():
    rows = []
    for seed, (h, bh, fp, bfp) in enumerate([(10, 7, 4, 6), (9, 9, 8, 2)]):
        for bucket in ("vt", "t"):
            for thr in (0.05, 0.3):
                rows.append({"row": "RH only", "seed": seed, "bucket": bucket, "score_thr": thr,
                             "n_gt": 50, "hits": h + (thr == 0.05), "false_positives": fp,
                             "baseline hits": bh, "baseline false_positives": bfp})
    fig = viz.plot_detection_changes(pd.DataFrame(rows), score_thr=0.3)
    axes = plain_axes(fig)
    assert len(axes) == 2 and "very tiny" in axes[0].get_title() and "50 test drones" in \
        axes[0].get_title()
    seeds, mean = (c.get_offsets() for c in axes[0].collections[:2])
    assert seeds.tolist() == [[-2, 3], [6, 0]]  # (false positives added, hits gained) per seed
    assert mean.tolist() == [[2, 1.5]]
    empty = viz.plot_detection_changes(pd.DataFrame(columns=rows[0].keys()))
    assert "no runs with detections" in all_text(empty)
