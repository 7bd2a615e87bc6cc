"""VisDrone2019-DET -> COCO converter on hand-written fixture files."""

from __future__ import annotations

import json
import os

import pytest
from test_data_fixtures import copy_fixture

from srtod.data.cocoio import DataError
from srtod.data.visdrone import (
    CATEGORIES,
    convert_visdrone,
    convert_visdrone_root,
    parse_line,
    split_of,
)


@pytest.fixture
def converted(tmp_path):
    root = copy_fixture("visdrone", tmp_path)
    split_dir = root / "VisDrone2019-DET-val"
    out = tmp_path / "out" / "val.json"
    report = convert_visdrone(split_dir, out)
    return split_dir, out, report, json.loads(out.read_text())


def _issues(report, kind):
    return [(i.where, i.action, i.message) for i in report.by_kind(kind)]


def test_categories_are_the_ten_classes(converted):
    *_, coco = converted
    assert [c["name"] for c in coco["categories"]] == [
        "pedestrian", "people", "bicycle", "car", "van", "truck", "tricycle", "awning-tricycle",
        "bus", "motor"]
    assert [c["id"] for c in coco["categories"]] == list(range(1, 11))
    assert coco["categories"] == CATEGORIES


def test_valid_file_converts_objects_ignored_regions_and_score0(converted):
    split_dir, _, report, coco = converted
    img1 = next(im for im in coco["images"] if im["file_name"] == "0000001.jpg")
    assert (img1["width"], img1["height"]) == (64, 48)
    anns = [a for a in coco["annotations"] if a["image_id"] == img1["id"]]
    normal = [a for a in anns if not a["iscrowd"]]
    assert [(a["category_id"], a["bbox"]) for a in normal] == [(1, [10, 5, 8, 12]),
                                                               (4, [20, 10, 16, 9])]
    assert normal[1]["truncation"] == 1 and normal[1]["occlusion"] == 1  # trailing comma parsed
    ignored = [a for a in anns if a.get("ignored_region")]
    # the ignored region (category 0) is a crowd box of every class
    assert sorted(a["category_id"] for a in ignored) == list(range(1, 11))
    assert all(a["iscrowd"] == 1 and a["bbox"] == [0, 30, 20, 10] for a in ignored)
    # score 0 of a real class: ignored in evaluation -> crowd of its own class
    score0 = [a for a in anns if a["iscrowd"] and not a.get("ignored_region")]
    assert [(a["category_id"], a["bbox"]) for a in score0] == [(10, [50, 20, 6, 6])]
    assert all(a["area"] == a["bbox"][2] * a["bbox"][3] for a in coco["annotations"])
    assert report.counts["others_dropped"] == 1
    assert report.counts["ignored_regions"] == 1
    assert report.counts["score0_ignored"] == 1


def test_bad_lines_are_reported_with_file_and_line(converted):
    split_dir, _, report, coco = converted
    txt = str(split_dir / "annotations" / "0000002.txt")
    malformed = _issues(report, "malformed_line")
    assert [w for w, *_ in malformed] == [f"{txt}:1", f"{txt}:2"]
    assert "expected 8 comma-separated fields" in malformed[0][2] and "got 7" in malformed[0][2]
    assert "field 'width' is not an integer" in malformed[1][2]
    assert _issues(report, "unknown_category") == [
        (f"{txt}:4", "dropped", "field 'category' = 12 is not in 0..11")]
    assert [w for w, *_ in _issues(report, "zero_size_box")] == [f"{txt}:5", f"{txt}:6"]
    outside = _issues(report, "bbox_outside")
    assert [(w, a) for w, a, _ in outside] == [(f"{txt}:7", "fixed"), (f"{txt}:8", "dropped"),
                                               (f"{txt}:9", "fixed")]
    assert report.counts["blank_lines"] == 1
    img2 = next(im for im in coco["images"] if im["file_name"] == "0000002.jpg")
    boxes = sorted(a["bbox"] for a in coco["annotations"] if a["image_id"] == img2["id"])
    assert boxes == [[0, 0, 8, 7], [3, 3, 5, 5], [60, 40, 4, 8]]


def test_missing_and_unreadable_files_are_reported(converted):
    split_dir, _, report, coco = converted
    assert _issues(report, "missing_image")[0][0] == str(
        split_dir / "annotations" / "0000003.txt")
    assert _issues(report, "missing_annotation_file")[0][:2] == (
        str(split_dir / "images" / "0000004.jpg"), "kept")
    assert _issues(report, "unreadable_image")[0][:2] == (
        str(split_dir / "images" / "0000005.jpg"), "dropped")
    names = sorted(im["file_name"] for im in coco["images"])
    assert names == ["0000001.jpg", "0000002.jpg", "0000004.jpg"]
    assert report.by_kind("empty_image") == []  # 0000004 is reported as missing_annotation_file
    assert not report.ok


def test_report_is_saved_and_pycocotools_loads_output(converted):
    from pycocotools.coco import COCO

    _, out, report, _ = converted
    saved = json.loads((out.parent / "val.convert-report.json").read_text())
    assert saved["counts"]["malformed_line"] == 2
    assert len(saved["issues"]) == len(report.issues)
    assert saved["outputs"]["ann_file"] == str(out)
    coco = COCO(str(out))
    assert len(coco.getImgIds()) == 3
    text = report.summary()
    assert "malformed_line" in text and "0000002.txt:1" in text


def test_root_mode_writes_split_json_and_links_images(tmp_path):
    root = copy_fixture("visdrone", tmp_path)
    reports = convert_visdrone_root(root)
    assert list(reports) == ["val"]
    assert (root / "annotations" / "val.json").is_file()
    link = root / "images" / "val"
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "VisDrone2019-DET-val",
                                                                   "images")
    assert (link / "0000001.jpg").is_file()
    convert_visdrone_root(root)  # idempotent
    assert link.is_symlink()


def test_not_a_visdrone_folder(tmp_path):
    with pytest.raises(DataError, match="missing 'images/'"):
        convert_visdrone(tmp_path, tmp_path / "x.json")
    with pytest.raises(DataError, match="no VisDrone split folder"):
        convert_visdrone_root(tmp_path)


def test_parse_line_and_split_names():
    assert parse_line("1, 2,3,4,1,1,0,0,", "f.txt:3") == (1, 2, 3, 4, 1, 1, 0, 0)
    with pytest.raises(DataError, match=r"^f.txt:3: field 'score' is not an integer: '0.5'"):
        parse_line("1,2,3,4,0.5,1,0,0", "f.txt:3")
    assert split_of("VisDrone2019-DET-train") == "train"
    assert split_of("VisDrone2019-DET-val") == "val"
    assert split_of("VisDrone2019-DET-test-dev") == "test"
    assert split_of("VisDrone2019-DET-test-challenge") is None
    assert split_of("README") is None
