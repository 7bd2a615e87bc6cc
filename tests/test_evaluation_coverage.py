"""difference_map_coverage: hand-computed cases and a brute-force comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srtod.evaluation import coverage_table, difference_map_coverage


def _mask(shape=(10, 10), on=()):
    m = np.zeros(shape, dtype=bool)
    for r, c in on:
        m[r, c] = True
    return m


def test_mask_covering_one_box_exactly():
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:6, 2:6] = True  # box [2, 2, 4, 4] = rows/cols 2..5
    cov = difference_map_coverage([mask], [[[2, 2, 4, 4]]])
    vt = cov["per_bucket"]["vt"]
    assert vt == {"n_boxes": 1, "touched_share": 1.0, "mean_covered_share": 1.0}
    assert cov["background_share"] == 0.0 and cov["n_background_pixels"] == 84
    assert cov["mask_share"] == pytest.approx(16 / 100)
    assert math.isnan(cov["per_bucket"]["t"]["touched_share"])
    assert cov["per_bucket"]["t"]["n_boxes"] == 0


def test_empty_mask():
    cov = difference_map_coverage([_mask()], [np.array([[2, 2, 4, 4]])])
    assert cov["per_bucket"]["vt"]["touched_share"] == 0.0
    assert cov["per_bucket"]["vt"]["mean_covered_share"] == 0.0
    assert cov["background_share"] == 0.0 and cov["mask_share"] == 0.0


def test_partial_cover_and_exact_background_share():
    mask = np.zeros((10, 10), dtype=bool)
    mask[3, 3] = True  # inside the box
    mask[8:10, :] = True  # 20 background pixels
    mask[0, 9] = True  # 1 more: 21 of 84 background pixels
    cov = difference_map_coverage([mask], [[[2, 2, 4, 4]]])
    assert cov["per_bucket"]["vt"]["mean_covered_share"] == pytest.approx(1 / 16)
    assert cov["per_bucket"]["vt"]["touched_share"] == 1.0
    assert cov["background_share"] == pytest.approx(21 / 84)


def test_buckets_by_sqrt_area_lower_bound_inclusive():
    boxes = [[0, 0, 7.9, 7.9], [10, 0, 8, 8], [20, 0, 16, 16], [40, 0, 32, 32], [0, 40, 4, 16]]
    cov = difference_map_coverage([np.ones((100, 100), bool)], [boxes])
    counts = {k: v["n_boxes"] for k, v in cov["per_bucket"].items()}
    # 4 x 16 has sqrt(area) = 8: tiny
    assert counts == {"vt": 1, "t": 2, "s": 1, "m": 1, "all": 5}
    assert all(v["touched_share"] == 1.0 for v in cov["per_bucket"].values())
    assert cov["per_bucket"]["all"]["mean_covered_share"] == 1.0


def test_fractional_and_clipped_boxes():
    mask = np.zeros((10, 10), dtype=bool)
    mask[1, 1] = True
    # [1.5, 1.5, 2, 2] overlaps pixels 1..3 in both axes (9 px), one of them on
    cov = difference_map_coverage([mask], [[[1.5, 1.5, 2, 2]]])
    assert cov["per_bucket"]["vt"]["mean_covered_share"] == pytest.approx(1 / 9)
    assert cov["n_background_pixels"] == 100 - 9
    # [-2, -2, 4, 4] is clipped to the 2 x 2 corner; [20, 20, 3, 3] lies outside the image
    mask = _mask(on=[(0, 0)])
    cov = difference_map_coverage([mask], [[[-2, -2, 4, 4], [20, 20, 3, 3]]])
    assert cov["per_bucket"]["vt"]["n_boxes"] == 1 and cov["n_outside"] == 1
    assert cov["per_bucket"]["vt"]["mean_covered_share"] == pytest.approx(1 / 4)


def test_background_pooled_over_images_and_overlapping_boxes():
    a = np.zeros((10, 10), dtype=bool)
    a[9, 9] = True  # 1 background pixel on
    b = np.zeros((5, 4), dtype=bool)  # no boxes: 20 background pixels, none on
    boxes_a = [[0, 0, 5, 5], [3, 3, 5, 5]]  # union 25 + 25 - 4 = 46 px
    cov = difference_map_coverage([a, b], [boxes_a, []])
    assert cov["n_background_pixels"] == (100 - 46) + 20
    assert cov["background_share"] == pytest.approx(1 / 74)
    assert cov["n_images"] == 2


def test_matches_brute_force_on_random_masks():
    rng = np.random.default_rng(0)
    masks, boxes = [], []
    for _ in range(5):
        h, w = rng.integers(30, 80, size=2)
        masks.append(rng.random((h, w)) < 0.2)
        n = int(rng.integers(0, 15))
        boxes.append(
            np.c_[rng.uniform(-5, w, n), rng.uniform(-5, h, n), rng.uniform(0, 40, (n, 2))]
        )
    cov = difference_map_coverage(masks, boxes)

    touched, covered, n_box = {}, {}, {}
    bg_on = bg_all = 0
    for mask, bxs in zip(masks, boxes, strict=True):
        inside_any = np.zeros(mask.shape, dtype=bool)
        for x, y, bw, bh in bxs:
            c0, r0 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
            c1 = min(max(int(np.ceil(x + bw)), int(np.floor(x)) + 1), mask.shape[1])
            r1 = min(max(int(np.ceil(y + bh)), int(np.floor(y)) + 1), mask.shape[0])
            if c1 <= c0 or r1 <= r0:
                continue
            inside_any[r0:r1, c0:c1] = True
            side = math.sqrt(bw * bh)
            key = "vt" if side < 8 else "t" if side < 16 else "s" if side < 32 else "m"
            patch = mask[r0:r1, c0:c1]
            n_box[key] = n_box.get(key, 0) + 1
            touched[key] = touched.get(key, 0) + bool(patch.any())
            covered[key] = covered.get(key, 0.0) + patch.mean()
        bg_on += int((mask & ~inside_any).sum())
        bg_all += int((~inside_any).sum())
    for key, n in n_box.items():
        got = cov["per_bucket"][key]
        assert got["n_boxes"] == n
        assert got["touched_share"] == pytest.approx(touched[key] / n)
        assert got["mean_covered_share"] == pytest.approx(covered[key] / n)
    assert cov["background_share"] == pytest.approx(bg_on / bg_all)


def test_table_and_input_checks():
    cov = difference_map_coverage([_mask(on=[(3, 3)])], [[[2, 2, 4, 4]]])
    table = coverage_table(cov)
    assert list(table.index) == ["vt", "t", "s", "m", "all"]
    assert {"n_boxes", "touched_share", "mean_covered_share", "background_share"} <= set(table)
    with pytest.raises(ValueError, match="2 masks but 1"):
        difference_map_coverage([_mask(), _mask()], [[]])
    with pytest.raises(ValueError, match="must be 2-D"):
        difference_map_coverage([np.zeros((2, 3, 3))], [[]])
