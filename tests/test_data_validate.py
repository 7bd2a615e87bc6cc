"""COCO validator on a hand-written json with every bad case (tests/fixtures/data/coco_bad)."""

from __future__ import annotations

import json
import shutil

import pytest
from test_data_fixtures import FIXTURES, copy_fixture

from srtod.data.cocoio import DataError
from srtod.data.validate import validate_coco


@pytest.fixture
def validated(tmp_path):
    root = copy_fixture("coco_bad", tmp_path)
    ann = root / "annotations" / "train.json"
    original = ann.read_bytes()
    report = validate_coco(ann, root / "images" / "train", verbose=False)
    fixed = json.loads((root / "annotations" / "train.fixed.json").read_text())
    return root, ann, original, report, fixed


def _where(report, kind):
    return [(i.where, i.action) for i in report.by_kind(kind)]


def test_image_problems(validated):
    root, _, _, report, fixed = validated
    img = root / "images" / "train"
    assert _where(report, "missing_image") == [(str(img / "missing.jpg"), "dropped")]
    assert _where(report, "unreadable_image") == [(str(img / "corrupt.jpg"), "dropped")]
    mismatch = report.by_kind("image_size_mismatch")
    assert [(i.where, i.action) for i in mismatch] == [(str(img / "b.jpg"), "fixed")]
    assert "width,height = 100,100" in mismatch[0].message and "64,48" in mismatch[0].message
    assert _where(report, "malformed_image") == [("train.json: images[8]", "dropped")]
    assert "'width'" in report.by_kind("malformed_image")[0].message
    dup = _where(report, "duplicate_image_id")
    assert dup == [("train.json: images[5] (id=1)", "dropped"),
                   ("train.json: images[7] (id=6)", "dropped")]
    assert [(im["id"], im["file_name"], im["width"], im["height"]) for im in fixed["images"]] == [
        (1, "a.jpg", 64, 48), (2, "b.jpg", 64, 48), (5, "c.jpg", 40, 40)]
    assert _where(report, "empty_image") == [("train.json: image id=5 (c.jpg)", "kept")]


def test_annotation_problems(validated):
    *_, report, fixed = validated
    assert _where(report, "bbox_outside") == [("train.json: annotations[1] (id=2)", "fixed"),
                                              ("train.json: annotations[10] (id=11)", "dropped")]
    assert _where(report, "zero_size_box") == [("train.json: annotations[2] (id=3)", "dropped"),
                                               ("train.json: annotations[3] (id=4)", "dropped")]
    unknown = report.by_kind("unknown_category")
    assert [(i.where, i.action) for i in unknown] == [("train.json: annotations[4] (id=5)",
                                                       "dropped")]
    assert "'category_id' = 7" in unknown[0].message
    assert _where(report, "duplicate_annotation_id") == [
        ("train.json: annotations[5] (id=1)", "fixed")]
    malformed = report.by_kind("malformed_annotation")
    assert [i.where for i in malformed] == ["train.json: annotations[6] (id=7)",
                                            "train.json: annotations[12]"]
    assert "'bbox'" in malformed[0].message and "'image_id'" in malformed[1].message
    assert _where(report, "unknown_image_id") == [("train.json: annotations[7] (id=8)", "dropped")]
    assert sorted(_where(report, "annotations_of_dropped_image")) == [
        ("train.json: image id=3", "dropped"), ("train.json: image id=6", "dropped")]
    assert report.counts["area_set_to_box_area"] == 1
    got = [(a["id"], a["image_id"], a["bbox"], a["area"]) for a in fixed["annotations"]]
    assert got == [(1, 1, [10, 10, 5, 6], 30), (2, 1, [60.0, 40.0, 4.0, 8.0], 32.0),
                   (14, 1, [20, 20, 4, 4], 16), (10, 2, [30, 30, 8, 8], 64)]


def test_nothing_is_dropped_silently(validated):
    *_, report, fixed = validated
    dropped_images = sum(1 for i in report.issues if i.action == "dropped" and (
        i.kind in ("missing_image", "unreadable_image", "malformed_image")
        or i.kind == "duplicate_image_id"))
    assert report.counts["images_in"] == 9 and report.counts["images_out"] == 3
    # 9 entries: 3 kept; dropped: missing, corrupt, malformed, the repeated a.jpg, and d + e
    assert dropped_images + 1 == 9 - 3  # the second of the ambiguous pair is one issue for both
    assert report.counts["annotations_in"] == 13 and report.counts["annotations_out"] == 4
    per_ann = sum(1 for i in report.issues if i.action == "dropped" and i.where.startswith(
        "train.json: annotations["))
    with_images = 2  # ids 9 and 12, one issue per image
    assert per_ann + with_images == 13 - 4
    assert not report.ok


def test_input_untouched_outputs_and_report_written(validated):
    root, ann, original, report, _ = validated
    assert ann.read_bytes() == original
    assert report.outputs["fixed_json"] == str(root / "annotations" / "train.fixed.json")
    saved = json.loads((root / "annotations" / "train.validation.json").read_text())
    assert saved["ok"] is False and saved["counts"]["zero_size_box"] == 2
    assert len(saved["issues"]) == len(report.issues)


def test_fixed_copy_is_clean_and_loads_in_pycocotools(validated, tmp_path):
    from pycocotools.coco import COCO

    root, *_ = validated
    fixed = root / "annotations" / "train.fixed.json"
    assert len(COCO(str(fixed)).getAnnIds()) == 4
    again = validate_coco(fixed, root / "images" / "train", tmp_path / "again.json", verbose=False)
    assert {i.kind for i in again.issues} == {"empty_image"}
    assert again.ok  # 'kept' issues only


def test_summary_is_printed(tmp_path, capsys):
    root = copy_fixture("coco_bad", tmp_path)
    validate_coco(root / "annotations" / "train.json", root / "images" / "train")
    out = capsys.readouterr().out
    assert "validate report for" in out and "zero_size_box" in out
    assert "train.json: annotations[2] (id=3)" in out


def test_refuses_to_overwrite_input_and_bad_inputs(tmp_path):
    root = copy_fixture("coco_bad", tmp_path)
    ann = root / "annotations" / "train.json"
    with pytest.raises(DataError, match="refusing to overwrite"):
        validate_coco(ann, root / "images" / "train", ann, verbose=False)
    with pytest.raises(DataError, match="image folder not found"):
        validate_coco(ann, root / "nope", verbose=False)
    broken = tmp_path / "broken.json"
    shutil.copy(FIXTURES / "coco_broken.json", broken)
    with pytest.raises(DataError, match=r"broken.json:4:\d+: invalid JSON"):
        validate_coco(broken, root / "images" / "train", verbose=False)
    (tmp_path / "nolist.json").write_text('{"images": [], "annotations": {}, "categories": []}')
    with pytest.raises(DataError, match="field 'annotations' must be a list"):
        validate_coco(tmp_path / "nolist.json", root / "images" / "train", verbose=False)
    with pytest.raises(DataError, match="file not found"):
        validate_coco(tmp_path / "absent.json", root / "images" / "train", verbose=False)


def test_check_only_writes_report_but_no_fixed_copy(tmp_path):
    root = copy_fixture("coco_bad", tmp_path)
    report = validate_coco(root / "annotations" / "train.json", root / "images" / "train",
                           fix=False, decode=False, verbose=False)
    assert "fixed_json" not in report.outputs
    assert not (root / "annotations" / "train.fixed.json").exists()
    assert (root / "annotations" / "train.validation.json").exists()
