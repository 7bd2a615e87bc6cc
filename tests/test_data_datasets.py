"""The mmdet dataset classes load each format through the real mmdet pipeline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_data_fixtures import FIXTURES, copy_fixture, make_images

mmdet = pytest.importorskip("mmdet")

PIPELINE = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_bbox=True),
            dict(type="PackDetInputs")]


@pytest.fixture(scope="module")
def build():
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules

    import srtod.data

    register_all_modules(init_default_scope=True)
    srtod.data.register_datasets()

    def _build(type_: str, ann_file, img_dir, **kw):
        return DATASETS.build(dict(type=type_, ann_file=str(ann_file),
                                   data_prefix=dict(img=str(img_dir) + "/"), pipeline=PIPELINE,
                                   **kw))
    return _build


def _xyxy(bbox):
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def test_custom_imports_registers_the_classes(tmp_path):
    from mmdet.registry import DATASETS
    from mmengine.config import Config

    cfg = tmp_path / "cfg.py"
    cfg.write_text("custom_imports = dict(imports=['srtod.data'], allow_failed_imports=False)\n")
    Config.fromfile(cfg)
    for name in ("DroneSwarmsDataset", "AITODDataset", "VisDroneDataset"):
        assert DATASETS.get(name) is not None, name
    assert DATASETS.get("VisDroneDataset").METAINFO["classes"][-1] == "motor"


def test_synthetic_set_loads_as_droneswarms(build, tmp_path):
    from srtod.data.synthetic import generate_dataset

    generate_dataset(tmp_path, num_images={"train": 4}, image_size=128, progress=False)
    ann_file = tmp_path / "annotations" / "train.json"
    ds = build("DroneSwarmsDataset", ann_file, tmp_path / "images" / "train")
    coco = json.loads(ann_file.read_text())
    assert len(ds) == 4
    assert ds.metainfo["classes"] == ("drone",)
    for i in range(len(ds)):
        item = ds[i]
        sample = item["data_samples"]
        assert tuple(item["inputs"].shape) == (3, 128, 128)
        img_id = sample.img_id
        expected = [_xyxy(a["bbox"]) for a in coco["annotations"] if a["image_id"] == img_id]
        got = sample.gt_instances.bboxes.tensor.numpy()
        np.testing.assert_allclose(got, np.array(expected, np.float32))
        assert (sample.gt_instances.labels.numpy() == 0).all()


def test_aitod_loads_eight_classes(build, tmp_path):
    shutil.copy(FIXTURES / "aitod_small.json", tmp_path / "test.json")
    make_images(tmp_path, {"images/t1.png": [80, 60], "images/t2.png": [80, 60]})
    ds = build("AITODDataset", tmp_path / "test.json", tmp_path / "images", test_mode=True)
    assert len(ds) == 2 and len(ds.metainfo["classes"]) == 8
    first = ds[0]["data_samples"]
    assert first.gt_instances.bboxes.tensor.tolist() == [[10, 10, 16, 15], [30, 20, 42, 34]]
    assert first.gt_instances.labels.tolist() == [0, 7]  # airplane, wind-mill
    assert ds[1]["data_samples"].gt_instances.labels.tolist() == [5]  # vehicle


def test_visdrone_ignored_regions_are_ignore_flag(build, tmp_path):
    from srtod.data.visdrone import convert_visdrone_root

    root = copy_fixture("visdrone", tmp_path)
    convert_visdrone_root(root)
    ds = build("VisDroneDataset", root / "annotations" / "val.json", root / "images" / "val",
               test_mode=True)
    assert len(ds) == 3
    info = next(ds.get_data_info(i) for i in range(len(ds))
                if ds.get_data_info(i)["img_path"].endswith("0000001.jpg"))
    flags = [inst["ignore_flag"] for inst in info["instances"]]
    assert flags.count(0) == 2 and flags.count(1) == 11  # 10 per-class ignored region + score 0
    idx = next(i for i in range(len(ds)) if ds.get_data_info(i)["img_path"].endswith("0000001.jpg"))
    sample = ds[idx]["data_samples"]
    assert sample.gt_instances.bboxes.tensor.tolist() == [[10, 5, 18, 17], [20, 10, 36, 19]]
    assert sample.gt_instances.labels.tolist() == [0, 3]  # pedestrian, car
    assert len(sample.ignored_instances) == 11
    assert [0, 30, 20, 40] in sample.ignored_instances.bboxes.tensor.tolist()
