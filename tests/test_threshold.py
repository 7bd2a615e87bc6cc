"""Choosing t: the threshold curve and its recommendation on planted maps, against a hand
computation and against difference_map_coverage; the per-image quantile threshold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srtod.evaluation import difference_map_coverage
from srtod.evaluation.threshold_curve import ThresholdCurve, grid_with, recommend, row_at
from srtod.models import DGFE, Threshold

GRID = np.round(np.arange(0, 51) * 0.01, 10)  # 0.00 .. 0.50


def planted():
    """A 20 x 20 map: a very tiny box (4 x 4 at 2, 2) peaking at 0.305 on one pixel, 0.105 on
    the rest; a tiny box (10 x 10 at 8, 8) at 0.055; ten background pixels at 0.205."""
    d = np.zeros((20, 20))
    d[2:6, 2:6] = 0.105
    d[3, 4] = 0.305
    d[8:18, 8:18] = 0.055
    d[0, :10] = 0.205
    boxes = np.array([[2, 2, 4, 4], [8, 8, 10, 10]], dtype=float)
    return d, boxes


def test_curve_matches_hand_computation():
    d, boxes = planted()
    curve = ThresholdCurve(grid=GRID)
    curve.add(d, boxes)
    table = curve.table()
    n_bg = 400 - 16 - 100
    at = {round(t, 2): row for t, row in zip(table["t"], table.to_dict("records"), strict=True)}
    assert at[0.0]["background_on"] == pytest.approx(10 / n_bg)  # D = 0 is not > 0
    assert at[0.0]["mask_share"] == pytest.approx(126 / 400)
    row = at[0.05]
    assert (row["touched_vt"], row["covered_vt"], row["touched_t"], row["covered_t"]) == (1, 1, 1, 1)
    row = at[0.15]
    assert (row["touched_vt"], row["covered_vt"], row["touched_t"]) == (1, 1 / 16, 0)
    assert row["background_on"] == pytest.approx(10 / n_bg)
    row = at[0.25]
    assert (row["touched_vt"], row["covered_vt"], row["background_on"]) == (1, 1 / 16, 0)
    assert at[0.31]["touched_vt"] == 0 and at[0.31]["mask_share"] == 0
    assert np.isnan(row["touched_s"])  # no small box
    # Youden's J = touched_vt - background_on is 1 on [0.21, 0.30]: the largest t is chosen
    best = recommend(table)
    assert best["t"] == pytest.approx(0.30) and best["youden_j"] == 1
    assert best["quantile"] == pytest.approx(1 - 1 / 400)  # one pixel on at 0.30
    assert curve.distribution()["peak_vt"]["0.5"] == pytest.approx(0.305)


def test_curve_equals_coverage_of_thresholded_maps():
    """At every grid value the curve equals difference_map_coverage of the masks D > t (an
    independent computation), over several random images with random boxes."""
    rng = np.random.default_rng(0)
    maps, boxes = [], []
    for _ in range(5):
        h, w = rng.integers(20, 40, size=2)
        maps.append(rng.gamma(2.0, 0.03, size=(h, w)))
        xy = rng.uniform(0, [w - 5, h - 5], size=(6, 2))
        wh = rng.uniform(1, 20, size=(6, 2))
        boxes.append(np.hstack([xy, wh]))
    grid = np.linspace(0, 0.3, 31)
    curve = ThresholdCurve(grid=grid)
    for d, b in zip(maps, boxes, strict=True):
        curve.add(d, b)
    table = curve.table()
    for t in grid[::5]:
        cov = difference_map_coverage([d > t for d in maps], boxes)
        row = row_at(table, t)
        assert row["background_on"] == pytest.approx(cov["background_share"])
        assert row["mask_share"] == pytest.approx(cov["mask_share"])
        for key in ("vt", "t", "s"):
            ref = cov["per_bucket"][key]
            if ref["n_boxes"]:
                assert row[f"touched_{key}"] == pytest.approx(ref["touched_share"])
                assert row[f"covered_{key}"] == pytest.approx(ref["mean_covered_share"])


def test_grid_with_makes_named_thresholds_exact():
    d, boxes = planted()
    grid = grid_with([0.2051], GRID)
    curve = ThresholdCurve(grid=grid)
    curve.add(d, boxes)
    assert row_at(curve.table(), 0.2051)["background_on"] == 0  # 0.205 is not above 0.2051


def test_curve_rejects_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        ThresholdCurve(grid=np.array([0.2, 0.1]))
    curve = ThresholdCurve(grid=GRID)
    with pytest.raises(ValueError, match="2-D"):
        curve.add(np.zeros((2, 3, 3)), [])
    with pytest.raises(ValueError, match="NaN"):
        curve.add(np.full((3, 3), np.nan), [])
    curve.add(np.zeros((5, 5)), np.zeros((0, 4)))  # an image without boxes
    with pytest.raises(ValueError, match="no box"):
        recommend(curve.table())


def test_quantile_threshold_switches_on_a_fixed_share_per_image():
    torch.manual_seed(0)
    d = torch.rand(1, 1, 32, 32)
    maps = torch.cat([d, 10 * d, d + 0.5])  # the same pattern at other scales and offsets
    thr = Threshold(mode="quantile", quantile=0.9)
    mask = thr(maps)
    on = (mask == 1).flatten(1).sum(1)
    assert on.tolist() == [102, 102, 102]  # 1024 - ceil(0.9 * 1024)
    assert torch.equal(mask[0], mask[1]) and torch.equal(mask[0], mask[2])
    expected_t = torch.quantile(maps.flatten(1), 0.9, dim=1, interpolation="higher").mean()
    assert float(thr.t) == pytest.approx(float(expected_t))  # logged: the batch mean
    assert "t" in thr.state_dict()


def test_quantile_threshold_config_and_errors():
    dgfe = DGFE(8, threshold=dict(mode="quantile", quantile=0.75))  # one line in a config
    out = dgfe(torch.rand(2, 8, 4, 4), torch.rand(2, 1, 16, 16))
    assert out["mask"].mean().item() == pytest.approx(0.25, abs=1 / 256)
    with pytest.raises(ValueError, match="quantile"):
        Threshold(mode="quantile")
    with pytest.raises(ValueError, match="quantile"):
        Threshold(mode="fixed", quantile=0.5)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        Threshold(mode="quantile", quantile=1.0)


SRTOD = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
FRCNN = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"


@pytest.fixture(scope="module")
def tiny_srtod(tmp_path_factory):
    """A generated data set (2 train, 3 val images of 128 px) and an untrained SR-TOD
    checkpoint (its D is what an untrained reconstruction head makes: enough for the command)."""
    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint

    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.inference import build_model

    root = tmp_path_factory.mktemp("threshold")
    generate_dataset(root / "data", num_images={"train": 2, "val": 3, "test": 1},
                     image_size=128, seed=0, progress=False)
    torch.manual_seed(0)
    model = build_model(load_config(SRTOD), None, "cpu")
    save_checkpoint(dict(state_dict=get_state_dict(model)), str(root / "srtod.pth"))
    return root


def test_threshold_command_measures_the_models_difference_maps(tiny_srtod, capsys):
    import json

    from srtod.cli import main
    from srtod.config import load_config
    from srtod.evaluation.coverage import gt_boxes
    from srtod.inference import build_loader, build_model, iter_predictions

    root, out = tiny_srtod, tiny_srtod / "out"
    code = main(["threshold", SRTOD, str(root / "srtod.pth"), "--data-root", str(root / "data"),
                 "--out", str(out), "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    assert "recommended t =" in capsys.readouterr().out
    summary = json.loads((out / "threshold.json").read_text())
    assert summary["split"] == "val" and summary["n_images"] == 3
    assert (out / "threshold_curve.png").stat().st_size > 10_000
    curve = __import__("pandas").read_csv(out / "curve.csv")
    best = summary["recommended"]
    j = curve["touched_vt"] - curve["background_on"]
    assert best["youden_j"] == pytest.approx(j.max(), abs=1e-6)
    # independent: the model's own D maps, thresholded at 40/255, through the coverage module
    cfg = load_config(SRTOD, data_root=root / "data")
    model = build_model(cfg, root / "srtod.pth", "cpu")
    preds = list(iter_predictions(model, build_loader(cfg, "val"), record_maps=True,
                                  progress=False))
    boxes = gt_boxes(root / "data" / "annotations" / "val.json")
    cov = difference_map_coverage([p.maps["dmap"] > 40 / 255 for p in preds],
                                  [boxes.get(p.img_id, np.zeros((0, 4))) for p in preds])
    at = summary["at"]["paper DroneSwarms (40/255)"]
    assert at["background_on"] == pytest.approx(cov["background_share"])
    assert at["touched_vt"] == pytest.approx(cov["per_bucket"]["vt"]["touched_share"], nan_ok=True)
    assert summary["model_threshold"] == {"mode": "learnable", "t": pytest.approx(40 / 255)}


def test_threshold_command_on_train_split_and_bad_input(tiny_srtod, capsys):
    import json

    from srtod.cli import main

    root = tiny_srtod
    code = main(["threshold", SRTOD, str(root / "srtod.pth"), "--data-root", str(root / "data"),
                 "--split", "train", "--out", str(root / "train"), "--device", "cpu"])
    assert code == 0
    assert json.loads((root / "train" / "threshold.json").read_text())["n_images"] == 2
    capsys.readouterr()
    code = main(["threshold", FRCNN, str(root / "srtod.pth"), "--data-root", str(root / "data"),
                 "--device", "cpu", "--out", str(root / "none")])
    assert code == 2 and "no SR-TOD reconstruction head" in capsys.readouterr().err
    assert not (root / "none").exists()  # nothing written
    code = main(["threshold", SRTOD, str(root / "missing.pth"), "--device", "cpu"])
    assert code == 2 and "missing.pth: no such checkpoint" in capsys.readouterr().err
