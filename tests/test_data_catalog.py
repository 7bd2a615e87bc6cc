"""Data-set catalog: classes, dataset types, paper settings (SR-TOD Sec. 4.1), layout docs."""

from __future__ import annotations

from pathlib import Path

import pytest

import srtod.data.catalog as catalog
from srtod.data.catalog import CATALOG, get_dataset_info, list_datasets


def test_names_and_types():
    assert list_datasets() == ["synthetic", "droneswarms", "aitod", "visdrone", "coco"]
    assert {n: CATALOG[n].dataset_type for n in CATALOG} == {
        "synthetic": "DroneSwarmsDataset", "droneswarms": "DroneSwarmsDataset",
        "aitod": "AITODDataset", "visdrone": "VisDroneDataset", "coco": "CocoDataset"}
    assert CATALOG["coco"].classes == ()  # any COCO set: its classes are its json's


@pytest.mark.parametrize("name,threshold,anchor,n_classes", [
    ("synthetic", 40 / 255, 2, 1), ("droneswarms", 40 / 255, 2, 1), ("aitod", 3 / 255, 4, 8),
    ("visdrone", 4 / 255, 6, 10)])
def test_paper_settings(name, threshold, anchor, n_classes):
    """The class names are the catalog's; the model settings are the data-set base config's, whose
    number of classes is derived from the catalog (one source per fact)."""
    from srtod.config import dataset_base

    info, base = get_dataset_info(name), dataset_base(name)
    assert info.num_classes == len(info.classes) == len(info.palette) == n_classes
    assert info.metainfo["classes"] == info.classes
    assert base.dataset_name == name and base.num_classes == n_classes
    assert base.threshold_init == pytest.approx(threshold)
    assert base.anchor_scale == anchor
    assert not hasattr(info, "threshold") and not hasattr(info, "anchor_scale")


def test_classes():
    assert get_dataset_info("droneswarms").classes == ("drone",)
    assert get_dataset_info("aitod").classes == (
        "airplane", "bridge", "storage-tank", "ship", "swimming-pool", "vehicle", "person",
        "wind-mill")
    assert get_dataset_info("visdrone").classes[:4] == ("pedestrian", "people", "bicycle", "car")


def test_lookup_and_paths():
    assert get_dataset_info(" VisDrone ") is CATALOG["visdrone"]
    with pytest.raises(KeyError, match="known: synthetic, droneswarms, aitod, visdrone, coco"):
        get_dataset_info("kitti")
    info = get_dataset_info("aitod")
    assert info.ann_file("train") == "data/raw/aitod/annotations/train.json"
    assert info.img_dir("val") == "data/raw/aitod/images/val/"


def test_layout_is_documented_and_matches_configs():
    readme = (Path(catalog.__file__).parent / "README.md").read_text()
    for info in CATALOG.values():
        assert info.data_root in catalog.__doc__ and info.data_root in readme
    configs = Path(catalog.__file__).parents[1] / "configs" / "_base_" / "datasets"
    for info in CATALOG.values():
        text = (configs / f"{info.name}.py").read_text()
        assert f"data_root = '{info.data_root}'" in text
        assert f"dataset_type = '{info.dataset_type}'" in text
