"""Statistics: AI-TOD size buckets, per-split numbers, per-object table."""

from __future__ import annotations

import math

import pytest
from test_data_fixtures import FIXTURES

from srtod.data.stats import (
    SIZE_BUCKETS,
    dataset_stats,
    find_splits,
    format_stats,
    object_records,
    object_table,
    size_bucket,
    split_stats,
)

STATS = FIXTURES / "stats.json"


@pytest.mark.parametrize("size,bucket", [
    (0.5, "very_tiny"), (7.99, "very_tiny"), (8.0, "tiny"), (15.99, "tiny"), (16.0, "small"),
    (31.99, "small"), (32.0, "medium"), (500.0, "medium")])
def test_size_bucket_boundaries(size, bucket):
    assert size_bucket(size) == bucket


def test_buckets_match_aitod_area_ranges():
    # [0, 8^2), [8^2, 16^2), [16^2, 32^2), [32^2, inf) in area
    areas = [(lo**2, hi**2) for _, lo, hi in SIZE_BUCKETS]
    assert areas == [(0, 64), (64, 256), (256, 1024), (1024, math.inf)]


def test_dataset_stats_on_known_sizes():
    s = dataset_stats(STATS)
    assert s["images"] == 3 and s["instances"] == 4 and s["crowd_annotations"] == 1
    assert s["instances_per_image"] == pytest.approx(4 / 3, abs=1e-3)
    assert s["max_instances_per_image"] == 3 and s["empty_images"] == 1
    assert s["mean_size"] == pytest.approx((4 + 8 + 20 + 40) / 4)
    assert s["median_size"] == pytest.approx(14.0)
    assert (s["min_size"], s["max_size"]) == (4.0, 40.0)
    assert s["size_buckets"] == {"very_tiny": 1, "tiny": 1, "small": 1, "medium": 1}
    assert s["size_bucket_fractions"]["tiny"] == 0.25
    assert s["per_class"] == {"bird": 2, "drone": 2}
    assert s["image_sizes"] == {"100x100": 2, "200x100": 1}


def test_object_records_and_table():
    rows = object_records(STATS, split="val")
    assert [r["bucket"] for r in rows] == ["very_tiny", "tiny", "small", "medium"]
    assert all(r["split"] == "val" for r in rows)
    table = object_table({"train": STATS, "val": STATS})
    assert len(table) == 8 and set(table["split"]) == {"train", "val"}
    assert list(table.columns) == ["split", "image_id", "file_name", "ann_id", "category", "x", "y",
                                   "w", "h", "area", "size", "bucket"]
    assert table.groupby("bucket").size().to_dict() == {"medium": 2, "small": 2, "tiny": 2,
                                                        "very_tiny": 2}


def test_split_stats_find_splits_and_format(tmp_path):
    ann = tmp_path / "annotations"
    ann.mkdir()
    for name in ("test", "train", "val", "train.fixed", "train.validation"):
        (ann / f"{name}.json").write_text(STATS.read_text())
    found = find_splits(tmp_path)
    assert list(found) == ["train", "val", "test"]  # reports and fixed copies skipped
    stats = split_stats(found)
    text = format_stats(stats)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["split", "images", "objects"]
    assert lines[2].split()[:3] == ["train", "3", "4"]
    assert len(lines) == 5


def test_empty_split(tmp_path):
    import json

    from srtod.data.cocoio import dump_json

    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}],
            "annotations": [], "categories": [{"id": 1, "name": "drone"}]}
    s = dataset_stats(dump_json(data, tmp_path / "empty.json"))
    assert s["instances"] == 0 and s["mean_size"] is None and s["empty_images"] == 1
    assert s["size_buckets"] == {"very_tiny": 0, "tiny": 0, "small": 0, "medium": 0}
    assert json.dumps(s)  # serialisable
