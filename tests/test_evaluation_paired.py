"""Paired statistics: the t-interval by hand, per-image AP against faster-coco-eval, and the image
bootstrap against evaluating physically resampled data sets."""

import numpy as np
import pytest

from srtod.evaluation import evaluate_coco
from srtod.evaluation.bootstrap import match_images
from srtod.evaluation.paired import (
    METRICS,
    bootstrap_differences,
    median_interval,
    metric_of,
    percentile_interval,
    t_interval,
    verdict,
)


def make_case(seed: int, n_images: int = 12, cats=(1, 2)):
    """Ground truth with tiny to medium boxes (and a crowd box) and noisy detections around it."""
    rng = np.random.default_rng(seed)
    images = [{"id": i + 1, "width": 200, "height": 200} for i in range(n_images)]
    anns, dets = [], []
    for img in images:
        for _ in range(rng.integers(0, 9)):
            side = float(np.exp(rng.uniform(np.log(3), np.log(45))))
            w, h = side * rng.uniform(0.7, 1.3), side * rng.uniform(0.7, 1.3)
            x, y = rng.uniform(0, 200 - w), rng.uniform(0, 200 - h)
            cat = int(rng.choice(cats))
            crowd = int(rng.random() < 0.05)
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": cat,
                         "bbox": [x, y, w, h], "area": w * h, "iscrowd": crowd})
            for _ in range(rng.integers(0, 3)):  # hits of varying quality, sometimes duplicated
                j = rng.normal(0, 0.15 * side, 4)
                dets.append({"image_id": img["id"], "category_id": cat,
                             "bbox": [x + j[0], y + j[1], max(1.0, w + j[2]), max(1.0, h + j[3])],
                             "score": float(rng.random())})
        for _ in range(rng.integers(0, 6)):  # false positives
            w, h = rng.uniform(2, 30, 2)
            dets.append({"image_id": img["id"], "category_id": int(rng.choice(cats)),
                         "bbox": [float(rng.uniform(0, 170)), float(rng.uniform(0, 170)),
                                  float(w), float(h)], "score": float(rng.random())})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"c{c}"} for c in cats]}
    return gt, dets


def resample(gt: dict, dets: list, draw: np.ndarray):
    """The data set made of images ``draw`` (indices, repeats allowed), each a new image."""
    images, anns, out = [], [], []
    for new_id, i in enumerate(draw, start=1):
        old = gt["images"][i]["id"]
        images.append({"id": new_id, "width": 200, "height": 200})
        anns += [dict(a, id=len(anns) + k + 1, image_id=new_id)
                 for k, a in enumerate(x for x in gt["annotations"] if x["image_id"] == old)]
        out += [dict(d, image_id=new_id) for d in dets if d["image_id"] == old]
    return {"images": images, "annotations": anns, "categories": gt["categories"]}, out


def test_t_interval_by_hand():
    mean, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0])
    # sd = 1.290994, se = 0.645497, t(0.975, 3) = 3.182446
    assert mean == 2.5
    assert lo == pytest.approx(2.5 - 3.182446 * 0.645497, abs=1e-5)
    assert hi == pytest.approx(2.5 + 3.182446 * 0.645497, abs=1e-5)
    assert np.isnan(t_interval([1.0])[1])


def test_median_interval_by_hand():
    # n = 15: [x_(4), x_(12)], coverage 1 - 2 P(Binomial(15, 1/2) <= 3) = 1 - 2 * 576 / 32768
    x = [9.0, 1.0, 14.0, 3.0, 7.0, 12.0, 5.0, 2.0, 15.0, 11.0, 4.0, 6.0, 13.0, 8.0, 10.0]
    assert median_interval(x) == (8.0, 4.0, 12.0)
    assert 1 - 2 * 576 / 32768 >= 0.95 > 1 - 2 * 1941 / 32768  # k = 5 would cover only 88%
    assert median_interval([3.0, 1.0, 2.0, 7.0, 5.0, 4.0, 6.0]) == (4.0, 1.0, 7.0)  # 98.4%
    median, lo, hi = median_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # the range covers 93.75%
    assert median == 3.0 and np.isnan(lo) and np.isnan(hi)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_image_ap_equals_faster_coco_eval(seed):
    gt, dets = make_case(seed)
    expected = evaluate_coco(gt, dets, "aitod")["metrics"]
    matches = match_images(gt, dets, "aitod")
    for name in METRICS:
        got = metric_of(matches, name)
        if np.isnan(expected[name]):
            assert np.isnan(got), name
        else:
            assert got == pytest.approx(expected[name], abs=1e-9), name


def test_weights_equal_a_physically_resampled_data_set():
    gt, dets = make_case(7, n_images=10)
    matches = match_images(gt, dets, "aitod")
    rng = np.random.default_rng(3)
    for _ in range(3):
        draw = rng.integers(0, 10, 10)  # repeats and left-out images
        weights = np.bincount(draw, minlength=10)
        expected = evaluate_coco(*resample(gt, dets, draw), "aitod")["metrics"]
        for name in ("AP", "AP50", "APvt", "APt", "ARvt", "ARt"):
            assert metric_of(matches, name, weights) == pytest.approx(expected[name], abs=1e-9)


def test_bootstrap_replicates_are_resampled_paired_differences():
    gt, dets_a = make_case(11, n_images=8, cats=(1,))
    _, dets_b = make_case(12, n_images=8, cats=(1,))  # another "model" on other boxes
    dets_b = [d for d in dets_b if d["image_id"] <= 8]
    a, b = match_images(gt, dets_a), match_images(gt, dets_b)
    reps = bootstrap_differences([a], [b], "AP", n_boot=4, seed=5)
    rng = np.random.default_rng(5)  # the same draws, evaluated the slow, independent way
    for rep in reps:
        draw = rng.integers(0, 8, 8)
        g, da = resample(gt, dets_a, draw)
        _, db = resample(gt, dets_b, draw)
        assert rep == pytest.approx(evaluate_coco(g, db)["metrics"]["AP"]
                                    - evaluate_coco(g, da)["metrics"]["AP"], abs=1e-9)
    np.testing.assert_array_equal(reps, bootstrap_differences([a], [b], "AP", n_boot=4, seed=5))
    with pytest.raises(ValueError, match="same positive number"):
        bootstrap_differences([a], [], "AP")


def test_percentile_interval_and_verdicts():
    lo, hi = percentile_interval(np.arange(1001, dtype=float))
    assert (lo, hi) == pytest.approx((25.0, 975.0))
    assert verdict(0.5, 2.0).startswith("better")
    assert verdict(-2.0, -0.1).startswith("worse")
    assert verdict(-1.0, 1.0) == "no effect measured (CI includes 0)"
    assert verdict(float("nan"), 1.0) == "no interval"


def test_hits_count_matched_ground_truth_and_false_positives_by_hand():
    """One image: two very tiny drones (4x4 px, area 16 < 8**2) and a tiny one (10x10). The
    detections: a hit on drone 1 (0.9), a second box on drone 1 (0.8, a duplicate: a false
    positive), a miss in empty sky (0.6), a hit on the tiny drone (0.4), a box on drone 2 at
    IoU 0.45 (0.3: a false positive at IoU 0.5)."""
    gt = {"images": [{"id": 1, "width": 64, "height": 64}],
          "categories": [{"id": 1, "name": "drone"}],
          "annotations": [
              {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 4, 4], "area": 16,
               "iscrowd": 0},
              {"id": 2, "image_id": 1, "category_id": 1, "bbox": [30, 30, 4, 4], "area": 16,
               "iscrowd": 0},
              {"id": 3, "image_id": 1, "category_id": 1, "bbox": [40, 5, 10, 10], "area": 100,
               "iscrowd": 0}]}
    dets = [{"image_id": 1, "category_id": 1, "bbox": b, "score": s} for b, s in (
        ([10, 10, 4, 4], 0.9), ([10.5, 10, 4, 4], 0.8), ([50, 50, 4, 4], 0.6),
        ([40, 5, 10, 10], 0.4), ([31.5, 30, 4, 4], 0.3))]
    m = match_images(gt, dets, "aitod")
    vt = m.hits("vt", 0.5, score_thrs=[0.0, 0.5, 0.85, 0.95])
    # >= 0: drone 1 hit; duplicate, sky, the IoU-0.39 box false (all 16 px: the vt range)
    assert vt["tp"].tolist() == [1, 1, 1, 0] and vt["fp"].tolist() == [3, 2, 0, 0]
    assert vt["n_gt"].tolist() == [2] * 4
    with pytest.raises(ValueError, match="iou 0.3"):
        m.hits("vt", 0.3)  # not matched at 0.3
    t = m.hits("t", 0.5, score_thrs=[0.0, 0.5])
    assert t["tp"].tolist() == [1, 0] and t["fp"].tolist() == [0, 0] and t["n_gt"].tolist() == [1, 1]
    every = m.hits("all", 0.5, score_thrs=[0.0])
    assert every["tp"].tolist() == [2] and every["fp"].tolist() == [3]
