"""Detect on any image: ``srtod.Detector`` and ``python -m srtod predict SOURCE``.

Most tests use untrained models saved with mmengine's ``save_checkpoint`` (enough for shapes,
coordinates and the command's behaviour); the ``slow`` one trains for an epoch.
"""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from srtod.image_sources import BadImage, read_image
from srtod.inference import CheckpointMismatch
from srtod.sliced_inference import SliceConfig, merge_detections, slice_windows

SRTOD = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
FRCNN = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
SIZE = 128


def _srtod(*args):
    return subprocess.run([sys.executable, "-m", "srtod", *map(str, args)], capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A generated data set (3 test images of 128 px) and untrained checkpoints of the SR-TOD and
    the baseline slim Faster R-CNN."""
    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint

    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.inference import build_model

    root = tmp_path_factory.mktemp("detect")
    generate_dataset(root / "data", num_images={"train": 1, "val": 1, "test": 3},
                     image_size=SIZE, seed=0, progress=False)
    for seed, (name, config) in enumerate((("srtod", SRTOD), ("frcnn", FRCNN))):
        torch.manual_seed(seed)
        model = build_model(load_config(config), None, "cpu")
        save_checkpoint(dict(state_dict=get_state_dict(model),
                             meta=dict(dataset_meta=dict(classes=("drone",)))),
                        str(root / f"{name}.pth"))
    return root


@pytest.fixture(scope="module")
def detector(tiny):
    from srtod import Detector

    return Detector(SRTOD, tiny / "srtod.pth", device="cpu", score_thr=0.0, image_size=SIZE)


def _test_images(tiny):
    return sorted((tiny / "data" / "images" / "test").glob("*.jpg"))


def test_import_srtod_stays_light_and_exports_detector():
    code = ("import sys, srtod; assert 'torch' not in sys.modules and 'mmdet' not in sys.modules; "
            "from srtod.predictor import Detector; assert srtod.Detector is Detector")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


# -- pure functions ------------------------------------------------------------------------------
def test_slice_windows_cover_the_image_with_the_overlap():
    wins = slice_windows(300, 500, SliceConfig(128, 160, overlap=0.25))
    cover = np.zeros((300, 500), int)
    for x0, y0, x1, y1 in wins:
        assert (x1 - x0, y1 - y0) == (160, 128) and x0 >= 0 and y0 >= 0 and x1 <= 500 and y1 <= 300
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    xs = sorted({w[0] for w in wins})
    assert xs[0] == 0 and xs[-1] == 500 - 160 and xs[1] - xs[0] == 120  # step = 160 * 0.75
    assert slice_windows(100, 90, SliceConfig(128, 128)) == [(0, 0, 90, 100)]
    with pytest.raises(ValueError, match="overlap"):
        SliceConfig(64, 64, overlap=1.0)
    with pytest.raises(ValueError, match="match_thr"):
        SliceConfig(64, 64, match_thr=0)


def test_merge_nms_keeps_the_best_and_nmm_merges_into_the_union():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    labels = np.array([0, 0, 1, 0])
    b, s, lab = merge_detections(boxes, scores, labels, "nms", "iou", 0.55)
    # box 1 overlaps box 0 with IoU 0.5 (below 0.55), box 2 is another class
    assert s.tolist() == pytest.approx([0.9, 0.8, 0.7, 0.6])
    b, s, lab = merge_detections(boxes, scores, labels, "nms", "iou", 0.5)
    assert s.tolist() == pytest.approx([0.9, 0.7, 0.6])  # IoU 0.5: at the threshold, as SAHI
    b, s, lab = merge_detections(boxes, scores, labels, "nms", "ios", 0.5)
    assert s.tolist() == pytest.approx([0.9, 0.7, 0.6])  # box 1 lies inside box 0: IoS 1
    b, s, lab = merge_detections(boxes, scores, labels, "nmm", "ios", 0.5)
    assert s.tolist() == pytest.approx([0.9, 0.7, 0.6]) and lab.tolist() == [0, 1, 0]
    cut = np.array([[92, 10, 100, 20], [95, 10, 108, 20]], np.float32)  # a box cut by a border
    b, s, _ = merge_detections(cut, np.array([0.5, 0.9], np.float32), np.zeros(2, int), "nmm")
    assert b.tolist() == [[92, 10, 108, 20]] and s.tolist() == pytest.approx([0.9])
    empty = merge_detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                             np.zeros(0, int))
    assert empty[0].shape == (0, 4)


def _greedy_merge_by_brute_force(boxes, scores, labels, merge, metric, thr):
    """merge_detections written out: every box against every later one."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores, labels = boxes[order], scores[order], labels[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    taken = np.zeros(len(boxes), bool)
    out = []
    for i in range(len(boxes)):
        if taken[i]:
            continue
        taken[i] = True
        box = boxes[i].copy()
        for j in range(i + 1, len(boxes)):
            if taken[j] or labels[j] != labels[i]:
                continue
            iw = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            ih = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            inter = max(iw, 0) * max(ih, 0)
            denom = min(area[i], area[j]) if metric == "ios" else area[i] + area[j] - inter
            if inter / max(denom, 1e-9) >= thr:
                taken[j] = True
                if merge == "nmm":
                    box = np.r_[np.minimum(box[:2], boxes[j, :2]), np.maximum(box[2:], boxes[j, 2:])]
        out.append((box, scores[i], labels[i]))
    return out


@pytest.mark.parametrize("seed", range(2))
def test_merge_equals_the_brute_force_greedy_merge(seed):
    """The grid-paired merge (overlaps only where boxes share a cell, large boxes against all)
    keeps what comparing every pair keeps: tiny boxes crowded on a 1920 x 1080 frame, a few
    large ones (over 256 cells), duplicates, equal scores, two classes."""
    rng = np.random.default_rng(seed)
    n = 300
    wh = np.where(rng.random((n, 1)) < 0.04, rng.uniform(100, 900, (n, 2)), rng.uniform(2, 20, (n, 2)))
    xy = rng.uniform(0, [200, 140], (n, 2))  # crowded: many overlaps
    boxes = np.hstack([xy, xy + wh]).astype(np.float32)
    boxes[::30] = boxes[1::30]  # exact duplicates
    boxes[7, 2] = boxes[7, 0]  # a zero-width box
    scores = rng.choice(np.linspace(0.05, 1, 40), n).astype(np.float32)  # ties
    labels = rng.integers(0, 2, n)
    for merge, metric, thr in (("nms", "ios", 0.5), ("nmm", "ios", 0.5), ("nms", "iou", 0.3),
                               ("nmm", "iou", 0.05), ("nms", "ios", 1.0)):
        want = _greedy_merge_by_brute_force(boxes, scores, labels, merge, metric, thr)
        b, s, lab = merge_detections(boxes, scores, labels, merge, metric, thr)
        assert len(s) == len(want) < n, (merge, metric, len(s), len(want))
        np.testing.assert_array_equal(b, np.array([w[0] for w in want], np.float32))
        np.testing.assert_array_equal(s, [w[1] for w in want])
        np.testing.assert_array_equal(lab, [w[2] for w in want])


def test_read_image_names_what_is_wrong(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), img)
    np.testing.assert_array_equal(read_image(good), img)
    jpg = tmp_path / "good.jpg"
    cv2.imwrite(str(jpg), img)
    cases = {
        "trunc.jpg": (jpg.read_bytes()[: len(jpg.read_bytes()) // 2], "truncated"),
        "trunc.png": (good.read_bytes()[: len(good.read_bytes()) // 2], "truncated"),
        "text.jpg": (b"this is not an image\n", "not an image"),
        "empty.png": (b"", "empty file"),
    }
    for name, (data, why) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BadImage, match=why) as err:
            read_image(tmp_path / name)
        assert name in str(err.value)
    with pytest.raises(BadImage, match="cannot be read"):
        read_image(tmp_path / "missing.jpg")


def test_render_prediction_puts_the_maps_beside_the_detections():
    from srtod.viz.detections import render_prediction

    img = np.full((60, 100, 3), 128, np.uint8)
    boxes, scores, labels = np.array([[10, 10, 20, 30]], np.float32), np.array([0.9]), np.array([0])
    plain = render_prediction(img, boxes, scores, labels, ["drone"])
    assert plain.shape == img.shape and (plain[20, 10] == [0, 255, 0]).all()  # the box's edge
    mask = np.zeros((60, 100), np.float32)
    mask[40:50, 60:70] = 1
    dmap = mask * 0.2
    panel = render_prediction(img, boxes, scores, labels, ["drone"], {"dmap": dmap, "mask": mask})
    gap = 2
    assert panel.shape == (60, 3 * 100 + 2 * gap, 3)
    d_b = panel[:, 2 * (100 + gap):]
    assert d_b[45, 65, 2] > 150 and d_b[45, 65, 0] < 60  # D_b's pixels in red
    assert d_b[5, 90, 2] < 100  # elsewhere the dimmed image


def test_sources_are_named_relative_to_the_folder_or_the_glob(tmp_path):
    from srtod.image_sources import collect_sources

    for cam in ("a", "b"):
        (tmp_path / cam / "day1").mkdir(parents=True)
        (tmp_path / cam / "day1" / "x.jpg").write_bytes(b"")
    (tmp_path / "a" / "day1" / "clip.MP4").write_bytes(b"")
    (tmp_path / "a" / "day1" / "readme.md").write_bytes(b"")
    (tmp_path / "a" / "day1" / ".hidden.jpg").write_bytes(b"")
    found = collect_sources(f"{tmp_path}/*/day1/*.jpg")
    assert [rel for _, rel in found.images] == ["a/day1/x.jpg", "b/day1/x.jpg"]
    found = collect_sources(str(tmp_path / "a" / "day1"))
    assert [rel for _, rel in found.images] == ["x.jpg"]
    assert [rel for _, rel in found.videos] == ["clip.MP4"]
    assert len(found.skipped) == 1 and "readme.md: not an image or video" in found.skipped[0]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        collect_sources(f"{tmp_path}/*/nothing*.png")


# -- the Python API ------------------------------------------------------------------------------
def test_detector_boxes_are_those_of_predict_split(tiny, detector):
    """Same images, same pipeline: the API's boxes equal predict_split's (original pixels)."""
    from srtod.config import load_config
    from srtod.inference import predict_split

    cfg = load_config(SRTOD, data_root=tiny / "data", image_size=SIZE)
    out = predict_split(cfg, tiny / "srtod.pth", tiny / "split.json", device="cpu",
                        progress=False, strict=True)
    gt = json.loads((tiny / "data" / "annotations" / "test.json").read_text())
    split = json.loads(out.read_text())
    paths = _test_images(tiny)
    preds = list(detector.predict_many(paths, batch_size=2))
    assert [p.img_id for p in preds] == [0, 1, 2]
    assert len(preds) == 3 and sum(len(p.bboxes) for p in preds) == len(split) > 0
    for p in preds:
        img_id = next(im["id"] for im in gt["images"] if im["file_name"].endswith(
            p.img_path.split("/")[-1]))
        theirs = [d for d in split if d["image_id"] == img_id]
        # the same boxes and scores; near-equal scores may come out in another order (a batch of
        # 2 against 1: the CPU convolutions round differently)
        ours = np.c_[p.bboxes[:, :2], p.bboxes[:, 2:] - p.bboxes[:, :2], p.scores]
        theirs = np.array([[*d["bbox"], d["score"]] for d in theirs])

        def rows(a):
            return a[np.lexsort(np.round(a, 1).T[::-1])]
        np.testing.assert_allclose(rows(ours), rows(theirs), atol=1e-2)


def test_detector_takes_arrays_and_returns_maps_at_the_original_size(tiny, detector):
    path = _test_images(tiny)[0]
    img = cv2.imread(str(path))
    from_path = detector.predict(path)
    from_array = detector.predict(img)
    np.testing.assert_array_equal(from_path.bboxes, from_array.bboxes)
    assert from_path.img_path == str(path) and from_array.img_path == "" and not from_path.maps
    wide = cv2.resize(img, (160, 96))
    pred = detector.predict(wide, maps=True)
    assert set(pred.maps) == {"dmap", "mask"}
    assert pred.maps["dmap"].shape == pred.maps["mask"].shape == (96, 160)
    assert set(np.unique(pred.maps["mask"])) <= {0.0, 1.0}
    assert (pred.bboxes[:, [0, 2]] <= 160 + 1e-3).all() and (pred.bboxes[:, [1, 3]] <= 96 + 1e-3).all()
    thr = float(np.median(from_array.scores))
    detector.score_thr = thr
    try:
        above = detector.predict(img)
    finally:
        detector.score_thr = 0.0
    assert (above.scores >= thr).all() and 0 < len(above.scores) < len(from_array.scores)
    with pytest.raises(BadImage, match="missing.jpg"):
        detector.predict(tiny / "missing.jpg")
    # images of other sizes in one batch (padded together): each gets its own size back
    preds = list(detector.predict_many([wide, path, img[:80]], batch_size=3, maps=True))
    assert [p.maps["dmap"].shape for p in preds] == [(96, 160), (SIZE, SIZE), (80, SIZE)]
    assert [p.img_path for p in preds] == ["", str(path), ""]
    assert len(preds[2].bboxes) and (preds[2].bboxes[:, [1, 3]] <= 80 + 1e-3).all()


def test_boxes_scale_with_the_image(tiny, detector):
    """An image and the same image 2x larger reach the network as the same input (the test
    pipeline resizes both to 128 px), so the larger one's boxes are exactly 2x the smaller's:
    boxes are in each original image's pixels."""
    small = cv2.resize(cv2.imread(str(_test_images(tiny)[1])), (SIZE // 2, SIZE // 2),
                       interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    a, b = detector.predict(small), detector.predict(big)
    assert len(a.bboxes) > 0 and a.bboxes.max() <= SIZE // 2 + 1e-3
    np.testing.assert_allclose(b.bboxes, 2 * a.bboxes, atol=1e-2)
    np.testing.assert_allclose(b.scores, a.scores, atol=1e-6)


def test_sliced_boxes_are_in_the_frame_coordinates(tiny, detector):
    """Two images side by side, sliced into their halves without a full-frame pass: the right
    half's boxes are that image's boxes shifted by its width."""
    left, right = (cv2.imread(str(p)) for p in _test_images(tiny)[:2])
    frame = np.hstack([left, right])
    cfg = SliceConfig(SIZE, SIZE, overlap=0.0, full_frame=False, merge="nms", match_metric="iou",
                      match_thr=0.99)
    sliced = detector.predict(frame, slice=cfg, maps=True, batch_size=2)
    expected = [detector.predict(left).bboxes, detector.predict(right).bboxes + [SIZE, 0, SIZE, 0]]
    expected = np.concatenate(expected)
    key = np.lexsort(sliced.bboxes.T)
    np.testing.assert_allclose(sliced.bboxes[key], expected[np.lexsort(expected.T)], atol=1e-3)
    assert sliced.maps["dmap"].shape == (SIZE, 2 * SIZE)
    np.testing.assert_allclose(sliced.maps["dmap"][:, SIZE:],
                               detector.predict(right, maps=True).maps["dmap"], atol=1e-5)
    full = detector.predict(frame, slice=(SIZE, SIZE))  # default: overlap 0.2, full frame, NMM
    assert len(full.bboxes) and (full.bboxes[:, 2] <= 2 * SIZE + 1e-3).all()


def test_checkpoint_of_another_model_is_an_error(tiny):
    from srtod import Detector

    with pytest.raises(CheckpointMismatch, match="frcnn.pth") as err:
        Detector(SRTOD, tiny / "frcnn.pth", device="cpu")
    assert "not in it" in str(err.value)  # the SR-TOD block's weights
    with pytest.raises(CheckpointMismatch, match="other shapes"):
        Detector(FRCNN, tiny / "frcnn.pth", device="cpu",
                 cfg_options={"model.roi_head.bbox_head.num_classes": 3})
    baseline = Detector(FRCNN, tiny / "frcnn.pth", device="cpu", image_size=SIZE)
    assert not baseline.is_srtod and baseline.classes == ("drone",)
    assert not baseline.predict(_test_images(tiny)[0], maps=True).maps


# -- the command ---------------------------------------------------------------------------------
def test_predict_folder_writes_every_output_and_skips_bad_files(tiny, detector, tmp_path):
    src = tmp_path / "frames"
    src.mkdir()
    for p in _test_images(tiny):
        (src / p.name).write_bytes(p.read_bytes())
    good = _test_images(tiny)[0].read_bytes()
    same_stem = src / _test_images(tiny)[0].with_suffix(".png").name  # beside its .jpg
    cv2.imwrite(str(same_stem), cv2.imread(str(_test_images(tiny)[0])))
    (src / "zz_truncated.jpg").write_bytes(good[: len(good) // 2])
    (src / "notes.txt").write_text("camera 3, morning\n")
    (src / "fake.png").write_text("not a png")
    (src / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out"
    thr = round(float(np.median(detector.predict(_test_images(tiny)[0]).scores)), 4)
    res = _srtod("predict", SRTOD, tiny / "srtod.pth", src, "--out-dir", out, "--image-size", SIZE,
                 "--score-thr", thr, "--batch-size", 2, "--save-crops", "--device", "cpu")
    assert res.returncode == 0, res.stderr[-3000:]
    for name, why in (("zz_truncated.jpg", "truncated"), ("notes.txt", "not an image or video"),
                      ("fake.png", "not an image"), ("empty.jpg", "empty file")):
        line = next((ln for ln in res.stderr.splitlines() if name in ln), "")
        assert why in line and "skipped" in line, (name, res.stderr[-3000:])
    summary = res.stdout.strip().splitlines()[-1]
    assert summary.startswith("4 images, ") and "s/image" in summary and "4 skipped" in summary
    names = sorted([p.name for p in _test_images(tiny)] + [same_stem.name])

    results = json.loads((out / "detections.json").read_text())
    images = json.loads((out / "images.json").read_text())
    assert sorted(im["file_name"] for im in images["images"]) == names
    assert all(set(im) == {"file_name", "id", "width", "height"} and im["width"] == SIZE
               for im in images["images"])
    assert images["categories"] == [{"id": 1, "name": "drone"}]
    assert results and {d["image_id"] for d in results} <= {im["id"] for im in images["images"]}
    assert all(d["score"] >= thr - 1e-5 and d["category_id"] == 1 for d in results)
    assert f"{len(results)} detections" in summary
    rows = (out / "detections.csv").read_text().splitlines()
    assert rows[0] == "image,x1,y1,x2,y2,score,label,class_name" and len(rows) == len(results) + 1
    assert rows[1].split(",")[0].endswith(".jpg") and rows[1].endswith(",0,drone")
    vis = sorted((out / "vis").iterdir())
    assert [v.name for v in vis] == sorted([p.name for p in _test_images(tiny)]
                                           + [same_stem.name + ".jpg"])
    panel = cv2.imread(str(vis[0]))
    assert panel.shape[0] == SIZE and panel.shape[1] > 3 * SIZE  # image | D | D_b
    crops = list((out / "crops" / "drone").glob("*.png"))
    assert len(crops) == len(results)


def test_predict_glob_single_image_and_no_vis(tiny, tmp_path, srtod_cli):
    folder = tiny / "data" / "images" / "test"
    out = tmp_path / "out"
    res = srtod_cli("predict", FRCNN, tiny / "frcnn.pth", f"{folder}/*_00000[01].jpg", "--out-dir", out,
                 "--image-size", SIZE, "--no-vis", "--no-progress")
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().splitlines()[-1].startswith("2 images, ")
    assert not (out / "vis").exists() and (out / "detections.csv").is_file()
    one = srtod_cli("predict", FRCNN, tiny / "frcnn.pth", _test_images(tiny)[2], "--out-dir", out,
                 "--image-size", SIZE, "--slice", 96, 96, "--merge", "nms")
    assert one.returncode == 0, one.stderr[-3000:]
    assert json.loads((out / "images.json").read_text())["images"][0]["file_name"] == "test_000002.jpg"
    panel = cv2.imread(str(out / "vis" / "test_000002.jpg"))
    assert panel.shape[:2] == (SIZE, SIZE)  # a baseline model: no D, no D_b


def test_predict_bad_sources_and_checkpoints(tiny, tmp_path, srtod_cli):
    ckpt = tiny / "srtod.pth"
    empty = tmp_path / "empty"
    empty.mkdir()
    res = srtod_cli("predict", SRTOD, ckpt, empty, "--out-dir", tmp_path / "o1")
    assert res.returncode == 1 and "no images or videos in" in res.stderr and str(empty) in res.stderr

    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    res = srtod_cli("predict", SRTOD, ckpt, only_bad, "--out-dir", tmp_path / "o2")
    assert res.returncode == 1 and "broken.jpg" in res.stderr
    assert "no image of" in res.stderr and "0 images, 0 detections" in res.stdout

    res = _srtod("predict", SRTOD, tmp_path / "nope.pth", only_bad)  # a real process
    assert res.returncode == 2 and "nope.pth does not exist" in res.stderr

    res = srtod_cli("predict", SRTOD, tmp_path / "nowhere", "x.jpg")
    assert res.returncode == 2 and "nowhere" in res.stderr

    res = srtod_cli("predict", SRTOD, ckpt, tmp_path / "missing_folder")
    assert res.returncode == 1 and "missing_folder does not exist" in res.stderr

    whole = ckpt.read_bytes()
    for name, data in (("notes.pth", b"not a checkpoint"), ("junk.pth", b"junk\n"),
                       ("cut.pth", whole[: len(whole) // 2])):
        (tmp_path / name).write_bytes(data)
        res = srtod_cli("predict", SRTOD, tmp_path / name, _test_images(tiny)[0], "--out-dir",
                        tmp_path / "o3")
        assert res.returncode == 2 and f"cannot read checkpoint {tmp_path / name}" in res.stderr

    # a checkpoint of another model: an error, with SOURCE and on a split
    res = srtod_cli("predict", SRTOD, tiny / "frcnn.pth", _test_images(tiny)[0], "--out-dir",
                 tmp_path / "o4")
    assert res.returncode == 2 and "frcnn.pth does not fit the model" in res.stderr
    res = srtod_cli("predict", SRTOD, tiny / "frcnn.pth", "--data-root", tiny / "data",
                 "--out", tmp_path / "d.json")
    assert res.returncode == 2 and "does not fit the model" in res.stderr
    assert not (tmp_path / "d.json").exists()


def _write_video(path, frames, codec="mp4v"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 5.0, (SIZE, SIZE))
    for f in frames:
        writer.write(f)
    writer.release()


def test_predict_video_writes_an_annotated_video_and_per_frame_detections(tiny, tmp_path, srtod_cli):
    img = cv2.imread(str(_test_images(tiny)[0]))
    src = tmp_path / "clips"
    src.mkdir()
    frames = [np.roll(img, 4 * k, axis=1) for k in range(6)]
    _write_video(src / "clip.mp4", frames)
    data = (src / "clip.mp4").read_bytes()
    (src / "cut.mp4").write_bytes(data[: len(data) // 2])  # its index is at the end: unreadable
    _write_video(src / "clip.avi", frames, "MJPG")
    data = (src / "clip.avi").read_bytes()
    (src / "cut.avi").write_bytes(data[: len(data) // 2])  # the first frames can be read
    out = tmp_path / "out"
    res = srtod_cli("predict", SRTOD, tiny / "srtod.pth", src / "clip.mp4", "--out-dir", out,
                 "--image-size", SIZE, "--batch-size", 3, "--save-crops", "--score-thr", 0)
    assert res.returncode == 0, res.stderr[-3000:]
    # a crop per detection, named by video and frame
    rows = (out / "detections.csv").read_text().splitlines()[1:]
    crops = sorted(p.name for p in (out / "crops").rglob("*.png"))
    assert rows and len(crops) == len(rows) and crops[0].startswith("clip_f")
    images = json.loads((out / "images.json").read_text())["images"]
    assert [im["frame"] for im in images] == list(range(6))
    assert images[0]["file_name"] == "clip.mp4#000000" and images[0]["video"] == "clip.mp4"
    cap = cv2.VideoCapture(str(out / "vis" / "clip.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6 and cap.get(cv2.CAP_PROP_FRAME_WIDTH) > 3 * SIZE
    cap.release()
    cut = srtod_cli("predict", SRTOD, tiny / "srtod.pth", src / "cut.mp4", "--out-dir",
                    tmp_path / "o", "--image-size", SIZE, "--no-vis")
    assert cut.returncode == 1 and "cut.mp4: cannot be opened as a video, skipped" in cut.stderr
    cut = srtod_cli("predict", SRTOD, tiny / "srtod.pth", src / "cut.avi", "--out-dir",
                    tmp_path / "o", "--image-size", SIZE, "--no-vis")
    assert cut.returncode == 0 and "cut.avi: only " in cut.stderr and "of its 6 frames" in cut.stderr
    assert "1 damaged" in cut.stdout


@pytest.mark.slow
def test_trained_detector_boxes_scale_with_the_image(tmp_path):
    """A trained model (one epoch) on an image and on the same image resized 2x (both resized to
    the same network input): the boxes of the larger one are 2x those of the smaller."""
    from srtod import Detector
    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.engine.runner import train

    root = tmp_path / "data"
    generate_dataset(root, num_images={"train": 8, "val": 2, "test": 2}, image_size=SIZE, seed=0,
                     progress=False)
    cfg = load_config(SRTOD, data_root=root, image_size=2 * SIZE, options={
        "train_cfg.max_epochs": 1, "train_dataloader.batch_size": 4,
        "optim_wrapper.optimizer.lr": 0.002})
    result = train(cfg, tmp_path / "run", progress=False)
    det = Detector(cfg, result.checkpoint, device="cpu", score_thr=0.05)  # a training checkpoint
    assert det.classes == ("drone",)  # from the checkpoint's dataset_meta
    img = cv2.imread(str(sorted((root / "images" / "test").glob("*.jpg"))[0]))
    small = det.predict(img)
    big = det.predict(cv2.resize(img, (2 * SIZE, 2 * SIZE), interpolation=cv2.INTER_LINEAR))
    assert len(small.bboxes) and len(big.bboxes) == len(small.bboxes)
    np.testing.assert_allclose(big.bboxes, 2 * small.bboxes, atol=1e-2)
