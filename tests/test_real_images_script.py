"""The data part of benchmarks/real_images_imagenet_vs_scratch.py on a tiny made-up image and
Pascal VOC annotation: tiles, the held-out strip and image, boxes cut at tile edges, and a folder
that srtod's validator accepts. Nothing trains, nothing is downloaded."""

from __future__ import annotations

import importlib.util
import io
import json
import sys

import pytest

from srtod.paths import ROOT

SCRIPT = ROOT / "benchmarks" / "real_images_imagenet_vs_scratch.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("real_images_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while being defined
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _voc(w: int, h: int, boxes) -> bytes:
    objects = "".join(
        f"<object><name>Tree</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>"
        f"<ymax>{y2}</ymax></bndbox></object>" for x1, y1, x2, y2 in boxes)
    return (f"<annotation><size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
            f"{objects}</annotation>").encode()


def _png(w: int, h: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 120, 40)).save(buf, format="PNG")
    return buf.getvalue()


def test_tile_starts_cover_the_image(script):
    assert script.tile_starts(64, 64) == [0]
    assert script.tile_starts(40, 64) == [0]
    starts = script.tile_starts(150, 64)
    assert starts[0] == 0 and starts[-1] == 150 - 64 and len(starts) == 3
    assert all(b - a <= 64 for a, b in zip(starts, starts[1:], strict=False))  # no gap


def test_boxes_in_clips_and_drops_mostly_cut_boxes(script):
    Box = script.Box
    boxes = [Box(10, 10, 20, 20), Box(60, 10, 70, 20), Box(56, 30, 66, 40)]
    inside = script.boxes_in(boxes, 0, 0, 64, 64, min_visible=0.5)
    # the first whole; the second 4 of 10 px inside: dropped; the third 8 of 10 px: clipped
    assert inside == [Box(10, 10, 20, 20), Box(56, 30, 64, 40)]
    shifted = script.boxes_in(boxes, 32, 0, 96, 64)
    assert Box(28, 10, 38, 20) in shifted  # window coordinates


def test_parse_voc_clips_to_the_image_and_drops_empty_boxes(script):
    w, h, boxes = script.parse_voc(_voc(100, 80, [(-5, 10, 20, 30), (90, 70, 120, 90),
                                                  (50, 50, 50, 60)]))
    assert (w, h) == (100, 80)
    assert boxes == [script.Box(0, 10, 20, 30), script.Box(90, 70, 100, 80)]


def test_build_dataset_makes_disjoint_splits_that_validate(script, tmp_path):
    from srtod.data.validate import validate_coco

    train_boxes = [(10, 10, 30, 30), (100, 100, 120, 124), (5, 150, 25, 170),  # val strip
                   (60, 60, 70, 72)]
    test_boxes = [(1, 1, 11, 11), (40, 30, 60, 50)]
    summary = script.build_dataset(_png(150, 180), _voc(150, 180, train_boxes),
                                   _png(90, 70), _voc(90, 70, test_boxes), tmp_path, tile=64,
                                   test_name="held.png")
    splits = summary["splits"]
    assert splits["test"] == dict(images=1, boxes=2, size=[90, 70])
    # the training region is the 116 px above the bottom 64 px strip: no shared pixel
    assert all(y + 64 <= 180 - 64 for _, y in splits["train"]["windows"])
    assert all(y == 180 - 64 for _, y in splits["val"]["windows"])
    for split in ("train", "val", "test"):
        ann = tmp_path / "annotations" / f"{split}.json"
        data = json.loads(ann.read_text())
        assert [c["name"] for c in data["categories"]] == ["Tree"]
        assert [im["id"] for im in data["images"]] == list(range(1, len(data["images"]) + 1))
        for a in data["annotations"]:
            im = data["images"][a["image_id"] - 1]
            x, y, w, h = a["bbox"]
            assert 0 <= x and 0 <= y and x + w <= im["width"] and y + h <= im["height"]
        report = validate_coco(ann, tmp_path / "images" / split, fix=False, decode=True,
                               verbose=False)
        assert report.ok, report.summary()
    val = json.loads((tmp_path / "annotations" / "val.json").read_text())
    # the box at y 150-170 lies in the strip (y >= 116): in val, in window coordinates
    assert any(a["bbox"][1] == 150 - 116 for a in val["annotations"])
    test = json.loads((tmp_path / "annotations" / "test.json").read_text())
    assert test["images"] == [dict(id=1, file_name="held.png", width=90, height=70)]
    assert (tmp_path / "images" / "test" / "held.png").is_file()


def test_too_small_an_image_is_refused(script):
    with pytest.raises(ValueError, match="too small"):
        script.split_windows(100, 100, 64)


def test_predictions_are_matched_to_the_ground_truth_by_file_name(script, tmp_path):
    gt = tmp_path / "test.json"
    gt.write_text(json.dumps(dict(images=[dict(id=7, file_name="a.png", width=8, height=8)],
                                  annotations=[], categories=[dict(id=1, name="Tree")])))
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / "images.json").write_text(json.dumps(dict(images=[dict(id=1, file_name="a.png")])))
    (pred / "detections.json").write_text(json.dumps(
        [dict(image_id=1, category_id=1, bbox=[0, 0, 2, 2], score=0.9)]))
    out = tmp_path / "dets.json"
    script.match_by_file_name(pred, gt, out)
    assert json.loads(out.read_text())[0]["image_id"] == 7


def test_help_runs(script, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(["--help"])
    assert exit_.value.code == 0
    assert "--own-schedule" in capsys.readouterr().out
