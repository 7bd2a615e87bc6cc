"""Malformed ground truth / detections: one clear error naming the source, record and field."""

from __future__ import annotations

import copy
import json

import pytest

from srtod.evaluation import EvaluationInputError, evaluate_coco
from srtod.evaluation.inputs import load_ground_truth

GT = {
    "images": [{"id": 1}, {"id": 2}],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [10, 10, 20, 20],
            "area": 400,
            "iscrowd": 0,
        },
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 4, 4], "iscrowd": 0},
    ],
    "categories": [{"id": 1, "name": "drone"}],
}
DET = {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}


def _dets_with(index: int, **change) -> list[dict]:
    dets = [dict(DET) for _ in range(4)]
    dets[index].update(change)
    for key, value in change.items():
        if value is ...:
            del dets[index][key]
    return dets


@pytest.mark.parametrize(
    "index,change,pattern",
    [
        (2, {"bbox": [1, 2, 3]}, r"detection #2: 'bbox' must be 4 numbers .* got 3"),
        (1, {"bbox": "0 0 1 1"}, r"detection #1: 'bbox' must be 4 numbers"),
        (3, {"bbox": [0, 0, -1, 5]}, r"detection #3: 'bbox' width and height must be >= 0"),
        (0, {"bbox": [0, 0, float("nan"), 5]}, r"detection #0: 'bbox' must hold finite"),
        (1, {"image_id": 7}, r"detection #1: image_id=7 is not in the ground truth's images"),
        (2, {"category_id": 3}, r"detection #2: category_id=3 is not in the ground truth's cat"),
        (1, {"image_id": "1"}, r"detection #1: 'image_id' must be an integer"),
        (2, {"image_id": 1.5}, r"detection #2: 'image_id' must be an integer"),
        (3, {"score": ...}, r"detection #3: missing field 'score'"),
        (0, {"score": "high"}, r"detection #0: 'score' must be a number"),
        (1, {"score": float("inf")}, r"detection #1: 'score' must be a finite number"),
    ],
)
def test_bad_detection_is_named(index, change, pattern):
    with pytest.raises(EvaluationInputError, match=r"^<detections>: " + pattern):
        evaluate_coco(GT, _dets_with(index, **change))


def test_detections_must_be_a_list_of_objects():
    with pytest.raises(EvaluationInputError, match="expected a JSON list of detections"):
        evaluate_coco(GT, GT)
    with pytest.raises(EvaluationInputError, match=r"detection #1 must be a JSON object"):
        evaluate_coco(GT, [DET, [1, 2]])


@pytest.mark.parametrize(
    "mutate,pattern",
    [
        (lambda g: g.pop("images"), r"missing top-level field 'images'"),
        (lambda g: g.__setitem__("categories", []), r"'categories' is empty"),
        (lambda g: g["annotations"][1].pop("bbox"), r"annotation #1: missing field 'bbox'"),
        (
            lambda g: g["annotations"][0].__setitem__("bbox", [1, 2]),
            r"annotation #0: 'bbox' must be 4",
        ),
        (
            lambda g: g["annotations"][1].__setitem__("image_id", 9),
            r"annotation #1: image_id=9 is not",
        ),
        (
            lambda g: g["annotations"][0].__setitem__("area", "big"),
            r"annotation #0: 'area' must be a number",
        ),
        (
            lambda g: g["annotations"][0].__setitem__("iscrowd", 2),
            r"annotation #0: 'iscrowd' must be 0 or 1",
        ),
        (lambda g: g["images"].append({"id": 1}), r"duplicate image id 1"),
    ],
)
def test_bad_ground_truth_is_named(mutate, pattern):
    gt = copy.deepcopy(GT)
    mutate(gt)
    with pytest.raises(EvaluationInputError, match=r"^<ground truth>: " + pattern):
        evaluate_coco(gt, [DET])


def test_file_errors_name_the_file(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(GT))
    (tmp_path / "broken.json").write_text('[{"image_id": 1,')
    with pytest.raises(EvaluationInputError, match=r"broken\.json:\d+:\d+: invalid JSON"):
        evaluate_coco(tmp_path / "gt.json", tmp_path / "broken.json")
    with pytest.raises(EvaluationInputError, match=r"missing\.json: detections file not found"):
        evaluate_coco(tmp_path / "gt.json", tmp_path / "missing.json")
    (tmp_path / "dets.json").write_text(json.dumps(_dets_with(1, bbox=[0, 0, 1])))
    with pytest.raises(EvaluationInputError, match=r"^dets\.json: detection #1: 'bbox'"):
        evaluate_coco(tmp_path / "gt.json", tmp_path / "dets.json")


def test_missing_area_falls_back_to_box_area_and_ids_are_sorted():
    gt = copy.deepcopy(GT)
    gt["images"].reverse()
    loaded = load_ground_truth(gt)
    assert loaded.img_ids.tolist() == [1, 2]
    assert [a["area"] for a in loaded.annotations] == [400.0, 16.0]
    assert gt == {**GT, "images": list(reversed(GT["images"]))}  # not modified
