"""Your own COCO data set: classes follow its json, the validator runs before training, a slim
detector trains on a generated two-class set and predicts with its class names (issue 11, part 0)."""

import json

import pytest
import torch

from conftest import relabel_two_classes
from srtod.cli import main
from srtod.config import load_config
from srtod.data.catalog import annotation_classes
from srtod.data.cocoio import DataError

FRCNN = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
CLASSES = ("drone", "bird")


@pytest.fixture(scope="module")
def two_class_data(tmp_path_factory):
    """The synthetic generator's images with every second object relabelled ``bird`` (id 7: ids
    need not start at 1 nor be contiguous)."""
    from srtod.data.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("two_class")
    generate_dataset(root, num_images={"train": 8, "val": 2, "test": 2}, image_size=96, seed=3,
                     progress=False)
    relabel_two_classes(root)
    return root


def _heads(cfg):
    from srtod.config import _walk

    return [n["num_classes"] for n in _walk(cfg.model) if "num_classes" in n]


@pytest.mark.parametrize("config", [FRCNN, "cascade_rcnn/srtod_cascade-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                                    "retinanet/retinanet_r18-slim_fpn_60e_synthetic-128.py",
                                    "dino/srtod_dino-4scale_r18-slim_60e_synthetic-128.py"])
def test_classes_follow_the_json(two_class_data, config):
    for dataset in (None, "coco"):
        cfg = load_config(config, dataset=dataset, data_root=two_class_data)
        assert _heads(cfg) and set(_heads(cfg)) == {2}
        for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
            assert cfg[key].dataset.metainfo["classes"] == list(CLASSES)
    # the same classes as the config's own keep it untouched (no metainfo override)
    cfg = load_config(config)
    assert "metainfo" not in cfg.train_dataloader.dataset and set(_heads(cfg)) == {1}


def test_a_paper_config_takes_your_classes_as_coco_only(two_class_data):
    cfg = load_config("faster_rcnn/faster-rcnn_r50_fpn_12e_aitod.py", dataset="coco",
                      data_root=two_class_data)
    assert set(_heads(cfg)) == {2} and cfg.dataset_name == "coco"
    # a named paper data set keeps its classes whatever a folder holds (a stale data/prepared
    # must not change AI-TOD's 8 classes)
    cfg = load_config("faster_rcnn/faster-rcnn_r50_fpn_12e_aitod.py", data_root=two_class_data)
    assert "metainfo" not in cfg.train_dataloader.dataset and set(_heads(cfg)) == {8}


def test_bad_category_files_are_named(tmp_path):
    with pytest.raises(DataError, match="train.json: annotation file not found"):
        load_config(FRCNN, dataset="coco", data_root=tmp_path)
    ann = tmp_path / "annotations" / "train.json"
    ann.parent.mkdir()
    ann.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    with pytest.raises(DataError, match=r"train.json: field 'categories' is empty"):
        annotation_classes(ann)
    ann.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1}]}))
    with pytest.raises(DataError, match="needs an 'id' and a 'name'"):
        annotation_classes(ann)


def test_train_validates_first(two_class_data, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(two_class_data, bad)
    ann_file = bad / "annotations" / "train.json"
    data = json.loads(ann_file.read_text())
    data["annotations"][0]["bbox"] = [500, 500, 10, 10]  # outside a 96 px image
    ann_file.write_text(json.dumps(data))
    work = tmp_path / "run"
    assert main(["train", FRCNN, "--data-root", str(bad), "--work-dir", str(work)]) == 2
    err = capsys.readouterr().err
    assert "train.json: needs fixing before training" in err and "srtod validate" in err
    assert not list(work.glob("*.pth"))  # nothing trained


@pytest.mark.slow
def test_train_and_predict_two_classes(two_class_data, tmp_path, capsys):
    work = tmp_path / "run"
    code = main(["train", FRCNN, "--data-root", str(two_class_data), "--image-size", "96",
                 "--work-dir", str(work), "--device", "cpu", "--cfg-options",
                 "train_cfg.max_epochs=1", "train_dataloader.batch_size=4",
                 "train_cfg.val_interval=1"])
    assert code == 0
    ckpt = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert ckpt["state_dict"]["roi_head.bbox_head.fc_cls.weight"].shape[0] == 3  # 2 + background
    assert tuple(ckpt["meta"]["dataset_meta"]["classes"]) == CLASSES
    reports = sorted(p.name for p in (work / "data_validation").glob("*.json"))
    assert reports == ["train.json", "val.json"]

    from srtod.predictor import Detector

    cfg = load_config(FRCNN, data_root=two_class_data, image_size=96)
    detector = Detector(cfg, work / "epoch_1.pth", device="cpu")
    assert detector.classes == CLASSES


def test_pipeline_prepares_a_coco_entry(two_class_data, tmp_path):
    """``data: {name: coco, root: DIR}`` in a profile: the prepare stage validates DIR and the
    experiments' configs take its classes."""
    from srtod.stages.prepare import prepare_data

    params = {"active": {"data": {"name": "coco", "root": str(two_class_data)}}}
    out = tmp_path / "prepared"
    done = prepare_data(params, out=out, results=tmp_path / "results")
    assert done["stats"]["train"]["images"] == 8
    cfg = load_config(FRCNN, dataset="coco", data_root=out)
    assert cfg.train_dataloader.dataset.metainfo["classes"] == list(CLASSES)
    assert set(_heads(cfg)) == {2}
