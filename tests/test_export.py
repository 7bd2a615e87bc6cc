"""ONNX export (``srtod export``) and ONNX Runtime inference (``srtod.Detector('model.onnx')``):
the same detections and difference maps as mmdet's own test path, and bad input refused before a
file is written.

The models are seeded random initialisations whose classification layers are scaled up (and
RetinaNet's prior bias removed), so that hundreds of boxes with well-spread scores pass the score
threshold and every step of the graph (top-k, decoding, clipping, both NMS, RoIAlign levels,
DGFE) decides something. The reference is mmdet's ``test_step`` through ``srtod.Detector``.
"""

import json

import numpy as np
import pytest
import torch

SIZE = 128
MODELS = {
    "frcnn": "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
    "srtod_frcnn": "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
    "retina": "retinanet/retinanet_r18-slim_fpn_60e_synthetic-128.py",
    "srtod_retina": "retinanet/srtod_retinanet_r18-slim_fpn_60e_synthetic-128.py",
    "rh_lite_quarter": "ablations/rh-lite-quarter_srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
    "thr_quantile": "ablations/thr-quantile_srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
}


def _spread_scores(model) -> None:
    """Scale the classifiers so that scores spread over (0, 1) instead of sitting at 0.5 (random
    two-class softmax) or 0.01 (RetinaNet's prior)."""
    with torch.no_grad():
        if hasattr(model, "roi_head"):
            model.rpn_head.rpn_cls.weight.mul_(30)
            model.roi_head.bbox_head.fc_cls.weight.mul_(30)
        else:
            model.bbox_head.retina_cls.weight.mul_(30)
            model.bbox_head.retina_cls.bias.zero_()
        for m in model.modules():  # let D_b switch on part of the image
            if type(m).__name__ == "Threshold" and m.t is not None:
                m.t.fill_(0.2)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Test images, and per model: checkpoint, export folder and export seconds."""
    import time

    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint

    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.export import export_onnx
    from srtod.inference import build_model

    root = tmp_path_factory.mktemp("export")
    generate_dataset(root / "data", num_images={"train": 1, "val": 1, "test": 3},
                     image_size=SIZE, seed=0, progress=False)
    out = {}
    for seed, (name, config) in enumerate(MODELS.items()):
        torch.manual_seed(seed)
        model = build_model(load_config(config), None, "cpu")
        _spread_scores(model)
        ckpt = root / f"{name}.pth"
        save_checkpoint(dict(state_dict=get_state_dict(model),
                             meta=dict(dataset_meta=dict(classes=("drone",)))), str(ckpt))
        start = time.perf_counter()
        onnx = export_onnx(config, ckpt, root / name)
        out[name] = dict(config=config, ckpt=ckpt, onnx=onnx,
                         seconds=time.perf_counter() - start)
    out["images"] = sorted((root / "data" / "images" / "test").glob("*.jpg"))
    return out


def _match(ref, got, box_tol=1.0, score_tol=1e-3):
    """Pair every reference detection with an unused one of the same label within ``box_tol``
    px (max over the 4 coordinates) and ``score_tol``; returns the largest box and score gaps.
    Order-free: equal scores may leave NMS in either order."""
    assert len(got.scores) == len(ref.scores), (len(got.scores), len(ref.scores))
    used = np.zeros(len(got.scores), bool)
    max_box = max_score = 0.0
    for b, s, lab in zip(ref.bboxes, ref.scores, ref.labels, strict=True):
        gap = np.abs(got.bboxes - b).max(axis=1)
        ok = ~used & (got.labels == lab) & (gap <= box_tol) & (np.abs(got.scores - s) <= score_tol)
        assert ok.any(), f"no ONNX detection matches {b} score {s}"
        j = np.flatnonzero(ok)[np.argmin(gap[ok])]
        used[j] = True
        max_box, max_score = max(max_box, gap[j]), max(max_score, abs(got.scores[j] - s))
    return max_box, max_score


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_runtime_gives_the_detections_and_maps_of_pytorch(exported, name):
    from srtod import Detector

    m = exported[name]
    thr = 0.05  # the configs' test score threshold: every detection the model returns
    torch_det = Detector(m["config"], m["ckpt"], device="cpu", score_thr=thr)
    onnx_det = Detector(m["onnx"], score_thr=thr)
    assert onnx_det.classes == ("drone",) and onnx_det.is_srtod == torch_det.is_srtod
    counts = []
    for path in exported["images"]:
        ref = torch_det.predict(path, maps=True)
        got = onnx_det.predict(path, maps=True)
        counts.append(len(ref.scores))
        _match(ref, got)
        assert set(got.maps) == set(ref.maps)
        for key in ref.maps:
            assert got.maps[key].shape == ref.maps[key].shape
            np.testing.assert_allclose(got.maps[key], ref.maps[key], atol=1e-4)
        if ref.maps:
            assert 0 < ref.maps["mask"].mean() < 1  # D_b switches part of the image on
    assert min(counts) >= 5, counts  # enough detections for the comparison to mean something


def test_sliced_inference_runs_on_the_onnx_model(exported):
    """A 256 x 384 frame of test images in 128 px slices (each slice the graph's input size):
    the same merged detections and stitched D as the PyTorch model."""
    import cv2

    from srtod import Detector
    from srtod.sliced_inference import SliceConfig

    m = exported["srtod_frcnn"]
    imgs = [cv2.imread(str(p)) for p in exported["images"]]
    frame = np.vstack([np.hstack(imgs), np.hstack(imgs[::-1])])
    cfg = SliceConfig(SIZE, SIZE, overlap=0.25, full_frame=False)
    ref = Detector(m["config"], m["ckpt"], device="cpu", score_thr=0.3).predict(
        frame, slice=cfg, maps=True)
    got = Detector(m["onnx"], score_thr=0.3).predict(frame, slice=cfg, maps=True)
    assert len(ref.scores) >= 5
    _match(ref, got)
    np.testing.assert_allclose(got.maps["dmap"], ref.maps["dmap"], atol=1e-4)


def test_model_json_describes_the_graph(exported):
    import onnx

    meta = json.loads(exported["srtod_frcnn"]["onnx"].with_suffix(".json").read_text())
    assert meta["classes"] == ["drone"] and meta["input_size"] == [SIZE, SIZE]
    assert meta["outputs"] == ["boxes", "scores", "labels", "dmap", "mask"] and meta["dmap"]
    assert meta["mean"] == pytest.approx([123.675, 116.28, 103.53]) and meta["bgr_to_rgb"]
    assert meta["score_thr"] == 0.05 and meta["srtod"] and meta["kind"] == "two_stage"
    graph = onnx.load(str(exported["srtod_frcnn"]["onnx"])).graph
    ops = {n.op_type for n in graph.node}
    assert {"NonMaxSuppression", "RoiAlign"} <= ops
    roi = next(n for n in graph.node if n.op_type == "RoiAlign")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in roi.attribute}
    assert attrs["coordinate_transformation_mode"] == b"half_pixel"  # mmcv aligned=True
    assert attrs["sampling_ratio"] == 0 and attrs.get("mode", b"avg") == b"avg"  # the default
    base = json.loads(exported["frcnn"]["onnx"].with_suffix(".json").read_text())
    assert base["outputs"] == ["boxes", "scores", "labels"] and not base["dmap"]


# -- bad input: one line, nothing written ----------------------------------------------------
def test_export_command_writes_the_model(exported, srtod_cli, tmp_path):
    import onnxruntime as ort

    m = exported["retina"]
    res = srtod_cli("export", m["config"], m["ckpt"], "--format", "onnx", "--out", tmp_path,
                    "--image-size", 96, 160, "--opset", 16)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "model.onnx").is_file() and "exported" in res.stdout
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["input_size"] == [96, 160] and meta["opset"] == 16
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert list(sess.get_inputs()[0].shape) == [1, 3, 96, 160]


@pytest.mark.parametrize("case", ["opset", "mismatch", "dino", "detectors", "size"])
def test_bad_input_is_one_line_and_writes_nothing(exported, srtod_cli, tmp_path, case):
    m = exported["frcnn"]
    args, why = {
        "opset": ((m["config"], m["ckpt"], "--opset", 11), "opset 11 is not supported"),
        "mismatch": ((MODELS["srtod_frcnn"], m["ckpt"]), "srtod"),
        "dino": (("dino/dino-4scale_r18-slim_60e_synthetic-128.py", m["ckpt"]),
                 "DINO is not supported"),
        "detectors": (("detectors/detectors_cascade-rcnn_r50-slim_fpn_60e_synthetic-128.py",
                       m["ckpt"]), "CascadeRCNN is not supported"),
        "size": ((m["config"], m["ckpt"], "--image-size", 100, 128), "multiples"),
    }[case]
    out = tmp_path / "out"
    res = srtod_cli("export", *args, "--out", out)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and why in lines[0], res.stderr
    assert not out.exists()


def test_detector_refuses_options_fixed_at_export(exported):
    from srtod import Detector

    with pytest.raises(ValueError, match="takes no checkpoint"):
        Detector(exported["frcnn"]["onnx"], exported["frcnn"]["ckpt"])
    missing = exported["frcnn"]["onnx"].parent / "nothing.onnx"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Detector(missing)


def test_predict_command_runs_the_onnx_model(exported, srtod_cli, tmp_path):
    """``predict MODEL.onnx SOURCE`` writes the detections that ``predict CONFIG CKPT SOURCE``
    writes (same count, boxes within 1 px), and D/D_b panels for an SR-TOD graph."""
    m = exported["srtod_frcnn"]
    src = exported["images"][0].parent
    runs = {}
    for kind, head in (("onnx", [m["onnx"]]), ("torch", [m["config"], m["ckpt"]])):
        out = tmp_path / kind
        res = srtod_cli("predict", *head, src, "--out-dir", out, "--device", "cpu",
                        "--no-progress")
        assert res.returncode == 0, res.stderr
        runs[kind] = json.loads((out / "detections.json").read_text())
        assert len(list((out / "vis").glob("*.jpg"))) == len(exported["images"])
    ref, got = runs["torch"], runs["onnx"]
    assert len(ref) >= 3 and len(got) == len(ref)
    key = lambda d: (d["image_id"], -d["score"])  # noqa: E731
    for a, b in zip(sorted(ref, key=key), sorted(got, key=key), strict=True):
        assert a["image_id"] == b["image_id"] and abs(a["score"] - b["score"]) <= 1e-3
        assert np.abs(np.subtract(a["bbox"], b["bbox"])).max() <= 1.0
    res = srtod_cli("predict", m["onnx"], src, src, "--out-dir", tmp_path / "x")
    assert res.returncode == 2 and "takes no checkpoint" in res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("config,thr", [(MODELS["srtod_frcnn"], 0.05),
                                        (MODELS["srtod_retina"], 0.005)])
def test_trained_model_parity(tmp_path, config, thr):
    """A model trained for 4 steps (BN statistics, learned threshold t): the same detections above
    the score threshold (RetinaNet's is lowered: after 4 steps its scores are still near the
    0.01 prior), D and D_b, PyTorch against ONNX Runtime."""
    from srtod import Detector
    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.engine.runner import train
    from srtod.export import export_onnx

    root = tmp_path / "data"
    generate_dataset(root, num_images={"train": 8, "val": 2, "test": 4}, image_size=SIZE, seed=0,
                     progress=False)
    cfg = load_config(config, data_root=root, image_size=SIZE, options={
        "train_cfg.max_epochs": 2, "train_dataloader.batch_size": 4,
        "param_scheduler.0.end": 2, "optim_wrapper.optimizer.lr": 0.002,
        ("model.test_cfg.rcnn.score_thr" if "faster" in config else "model.test_cfg.score_thr"):
        thr})
    result = train(cfg, tmp_path / "run", progress=False)
    onnx = export_onnx(cfg, result.checkpoint, tmp_path / "export")
    ref_det = Detector(cfg, result.checkpoint, device="cpu", score_thr=thr)
    got_det = Detector(onnx, score_thr=thr)
    total = 0
    for path in sorted((root / "images" / "test").glob("*.jpg")):
        ref, got = ref_det.predict(path, maps=True), got_det.predict(path, maps=True)
        _match(ref, got)
        total += len(ref.scores)
        np.testing.assert_allclose(got.maps["dmap"], ref.maps["dmap"], atol=1e-4)
        np.testing.assert_array_equal(got.maps["mask"], ref.maps["mask"])
    assert total >= 5, total


@pytest.mark.slow
def test_onnx_split_evaluation_agrees_with_pytorch(tmp_path, srtod_cli):
    """Issue 28: a model trained for a few steps (threshold mode 'quantile', as the threshold
    study's runs) predicts the test split through ``predict CONFIG CKPT --data-root`` (the
    pipeline's data loader) and through ``predict model.onnx --data-root``: the same detections
    per image and the same AI-TOD metrics (to 0.1 AP; in fact to float rounding)."""
    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.engine.runner import train
    from srtod.evaluation import evaluate_coco
    from srtod.export import export_onnx
    from srtod.prediction import Prediction

    root = tmp_path / "data"
    generate_dataset(root, num_images={"train": 8, "val": 2, "test": 6}, image_size=SIZE, seed=0,
                     progress=False)
    cfg = load_config(MODELS["thr_quantile"], data_root=root, image_size=SIZE, options={
        "train_cfg.max_epochs": 2, "train_dataloader.batch_size": 4, "param_scheduler.0.end": 2,
        "optim_wrapper.optimizer.lr": 0.004})
    result = train(cfg, tmp_path / "run", progress=False)
    config = next(result.work_dir.glob("*.py"))  # the config the run dumped
    onnx = export_onnx(config, result.checkpoint, tmp_path / "export")
    dets, metrics = {}, {}
    for kind, head in (("torch", [config, result.checkpoint, "--device", "cpu"]),
                       ("onnx", [onnx])):
        out = tmp_path / f"{kind}.json"
        res = srtod_cli("predict", *head, "--data-root", root, "--out", out, "--evaluate",
                        "--no-progress")
        assert res.returncode == 0, res.stderr
        assert "APvt" in res.stdout  # the metrics table was printed
        dets[kind] = json.loads(out.read_text())
        metrics[kind] = evaluate_coco(root / "annotations" / "test.json", out)["metrics"]
    assert len(dets["torch"]) >= 20 and len(dets["onnx"]) == len(dets["torch"])

    def per_image(records, img_id):
        mine = [d for d in records if d["image_id"] == img_id]
        return Prediction(img_id=img_id, img_path="",
                          bboxes=np.array([[x, y, x + w, y + h] for x, y, w, h in
                                           (d["bbox"] for d in mine)], np.float32).reshape(-1, 4),
                          scores=np.array([d["score"] for d in mine], np.float32),
                          labels=np.array([d["category_id"] for d in mine]))

    for img_id in {d["image_id"] for d in dets["torch"]}:
        _match(per_image(dets["torch"], img_id), per_image(dets["onnx"], img_id))
    for name in ("AP", "AP50", "APvt", "APt"):
        a, b = metrics["torch"][name], metrics["onnx"][name]
        assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 0.1, (name, a, b)
    res = srtod_cli("predict", onnx, "--out", tmp_path / "x.json")
    assert res.returncode == 2 and "--data-root" in res.stderr


def test_an_image_padded_otherwise_than_by_mmdet_is_warned_about(exported):
    """128 x 64 resizes to itself; mmdet pads it to 128 x 64, the graph to 128 x 128."""
    from srtod.onnx_runtime import OnnxDetector

    det = OnnxDetector(exported["frcnn"]["onnx"])
    with pytest.warns(UserWarning, match="mmdet pads it to 128 x 64"):
        det(np.zeros((128, 64, 3), np.uint8))
    batch, shape, scale = det.preprocess(np.full((64, 32, 3), 255, np.uint8))  # resized 2x
    assert batch.shape == (1, 3, 128, 128) and shape.tolist() == [128, 64] and scale == (2, 2)
    want = (255 - np.array([123.675, 116.28, 103.53])) / np.array([58.395, 57.12, 57.375])
    np.testing.assert_allclose(batch[0, :, 0, 0], want, rtol=1e-6)
    assert (batch[0, :, :, 64:] == 0).all()  # padding: zeros after normalisation, as mmdet


def test_onnx_detector_runs_without_torch(exported, tmp_path):
    """An ONNX deployment needs no torch or mmdet: ``srtod.Detector('model.onnx')`` with both
    made unimportable predicts, slices and returns D."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('torch', 'torchvision', 'mmdet', 'mmcv', 'mmengine'): sys.modules[m] = None\n"
        "import numpy as np, srtod\n"
        f"det = srtod.Detector({str(exported['srtod_frcnn']['onnx'])!r}, score_thr=0.3)\n"
        f"p = det.predict({str(exported['images'][0])!r}, maps=True, slice=(64, 64))\n"
        "assert p.maps['dmap'].shape == (128, 128) and len(p.scores) > 0, p\n"
        "print('ok', len(p.scores))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("ok"), res.stderr[-3000:]


@pytest.mark.parametrize("name", ["srtod_frcnn", "srtod_retina", "thr_quantile"])
def test_dynamic_export_matches_pytorch_on_any_shape(exported, name, tmp_path):
    """``--dynamic``: anchors from the levels' shapes, each image padded as mmdet pads it, so
    frames of other shapes (72 x 128 padded to 96 x 128; a 256 x 384 frame whose full-frame pass
    is 85 x 128 padded to 96 x 128) give PyTorch's detections and D, without the warning."""
    import warnings

    import cv2

    from srtod import Detector
    from srtod.export import export_onnx

    m = exported[name]
    onnx = export_onnx(m["config"], m["ckpt"], tmp_path / "dyn", dynamic=True)
    assert json.loads(onnx.with_suffix(".json").read_text())["dynamic"] is True
    ref_det = Detector(m["config"], m["ckpt"], device="cpu", score_thr=0.05)
    got_det = Detector(onnx, score_thr=0.05)
    imgs = [cv2.imread(str(p)) for p in exported["images"]]
    frame = np.vstack([np.hstack(imgs), np.hstack(imgs[::-1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for img, kw in ((imgs[0][28:100], {}), (imgs[1], {}), (frame, {"slice": (SIZE, SIZE)})):
            ref = ref_det.predict(img, maps=True, **kw)
            got = got_det.predict(img, maps=True, **kw)
            assert len(ref.scores) >= 5
            _match(ref, got)
            np.testing.assert_allclose(got.maps["dmap"], ref.maps["dmap"], atol=1e-4)
