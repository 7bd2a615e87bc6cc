"""Synthetic anti-UAV generator: determinism, COCO validity, size distribution, tight boxes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srtod.data.synthetic import SyntheticConfig, generate_dataset, image_rng, render_sample


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("syn") / "synthetic"
    summary = generate_dataset(out, num_images={"train": 8, "val": 3, "test": 3}, image_size=128,
                               seed=0, progress=False)
    return out, summary


@pytest.fixture(scope="module")
def samples_512() -> list:
    return [render_sample(0, "train", i, (512, 512), encode=False) for i in range(40)]


def test_layout_and_summary(small_set):
    out, summary = small_set
    for split, n in {"train": 8, "val": 3, "test": 3}.items():
        assert sorted(p.name for p in (out / "images" / split).iterdir()) == [
            f"{split}_{i:06d}.jpg" for i in range(n)]
        assert (out / "annotations" / f"{split}.json").is_file()
        assert summary["splits"][split]["images"] == n
    assert summary["image_size"] == [128, 128]
    total = sum(s["instances"] for s in summary["splits"].values())
    assert total >= 14  # at least one drone per image


def test_same_seed_identical_bytes_different_seed_differs(small_set, tmp_path):
    out, _ = small_set
    again = tmp_path / "again"
    generate_dataset(again, num_images={"train": 8, "val": 3, "test": 3}, image_size=128, seed=0,
                     progress=False)
    assert _files(out) == _files(again)
    other = tmp_path / "other"
    generate_dataset(other, num_images={"train": 8, "val": 3, "test": 3}, image_size=128, seed=1,
                     progress=False)
    a, b = _files(out), _files(other)
    assert a.keys() == b.keys()
    differing = [k for k in a if a[k] != b[k]]
    assert len(differing) == len(a)  # every image and every json differs


def test_split_counts_are_independent(small_set, tmp_path):
    out, _ = small_set
    alt = tmp_path / "alt"
    generate_dataset(alt, num_images={"train": 2, "val": 3}, image_size=128, seed=0, progress=False)
    assert _files(alt / "images" / "val") == _files(out / "images" / "val")
    assert (alt / "annotations" / "val.json").read_bytes() == (
        out / "annotations" / "val.json").read_bytes()
    for i in range(2):
        name = f"train_{i:06d}.jpg"
        assert (alt / "images/train" / name).read_bytes() == (out / "images/train" / name).read_bytes()


def test_rerun_with_fewer_images_removes_stale_files(tmp_path):
    out = tmp_path / "s"
    generate_dataset(out, num_images={"train": 3}, image_size=64, progress=False)
    (out / "images/train/keep_me.txt").write_text("not ours")
    generate_dataset(out, num_images={"train": 1}, image_size=64, progress=False)
    assert sorted(p.name for p in (out / "images/train").iterdir()) == ["keep_me.txt",
                                                                      "train_000000.jpg"]


def test_coco_json_loads_with_pycocotools_and_matches_files(small_set):
    from pycocotools.coco import COCO

    out, _ = small_set
    coco = COCO(str(out / "annotations" / "train.json"))
    assert coco.loadCats(coco.getCatIds()) == [{"id": 1, "name": "drone", "supercategory": "uav"}]
    assert len(coco.getImgIds()) == 8
    for img in coco.loadImgs(coco.getImgIds()):
        with Image.open(out / "images/train" / img["file_name"]) as im:
            assert im.size == (img["width"], img["height"]) == (128, 128)
            assert im.format == "JPEG"
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img["id"]))
        assert len(anns) >= 1
        for ann in anns:
            x, y, w, h = ann["bbox"]
            assert ann["area"] == w * h and ann["iscrowd"] == 0 and ann["category_id"] == 1
            assert 0 <= x and 0 <= y and x + w <= 128 and y + h <= 128 and w >= 1 and h >= 1
    ids = [a["id"] for a in json.loads((out / "annotations/train.json").read_text())["annotations"]]
    assert ids == list(range(1, len(ids) + 1))


def test_size_distribution_is_droneswarms_like(samples_512):
    boxes = np.concatenate([s.boxes for s in samples_512])
    sizes = np.sqrt(boxes[:, 2] * boxes[:, 3])
    assert len(sizes) > 200
    assert 6.0 <= sizes.mean() <= 10.0  # DroneSwarms: about 7.9 px
    very_tiny, tiny = (sizes < 8).mean(), ((sizes >= 8) & (sizes < 16)).mean()
    assert very_tiny + tiny > 0.6
    assert very_tiny > 0.3 and tiny > 0.2
    assert boxes[:, 2:].max() <= 40 and sizes.min() >= 1
    counts = [len(s.boxes) for s in samples_512]
    assert min(counts) >= 1 and max(counts) <= 30 and max(counts) >= 15  # swarms, 1..30


def test_scenes_vary_and_have_structure(samples_512):
    lightings = {s.scene.lighting for s in samples_512}
    assert lightings == {"bright", "overcast", "dusk", "hazy"}
    assert any(s.scene.horizon is not None for s in samples_512)
    assert any(s.scene.horizon is None for s in samples_512)
    # not flat colour: every image has large-scale luminance variation
    for s in samples_512[:10]:
        lum = s.image.astype(np.float32).mean(0)
        coarse = lum.reshape(16, 32, 16, 32).mean((1, 3))
        assert coarse.std() > 2.0
    # hard negatives are drawn but not annotated
    kinds = [k for s in samples_512 for k, _ in s.distractors]
    assert "bird" in kinds and "speck" in kinds


def test_boxes_are_tight_around_what_is_drawn():
    for i in range(6):
        s = render_sample(3, "train", i, (256, 256), encode=False, keep_layers=True)
        diff = np.abs(s.layers["clean"] - s.layers["background"]).max(0)  # (H, W)
        assert len(s.boxes)
        for x, y, w, h in s.boxes.tolist():
            box = diff[y:y + h, x:x + w]
            # each border row / column of the box holds drawn pixels
            assert box[0].max() > 0 and box[-1].max() > 0
            assert box[:, 0].max() > 0 and box[:, -1].max() > 0
            # the drawing is inside the box: outside a 1-px ring nothing of it remains bright
            y0, y1 = max(y - 3, 0), min(y + h + 3, 256)
            x0, x1 = max(x - 3, 0), min(x + w + 3, 256)
            assert diff[y0:y1, x0:x1].max() == pytest.approx(box.max())


def test_image_rng_depends_on_seed_split_and_index():
    draws = {(s, sp, i): image_rng(s, sp, i).random()
             for s in (0, 1) for sp in ("train", "val") for i in (0, 1)}
    assert len(set(draws.values())) == len(draws)
    assert image_rng(0, "train", 0).random() == draws[(0, "train", 0)]


def test_config_changes_sizes():
    cfg = SyntheticConfig(size_median=16.0, near_fraction=0.0)
    sizes = np.concatenate([render_sample(0, "train", i, (256, 256), cfg, encode=False).boxes
                            for i in range(8)])
    assert np.sqrt(sizes[:, 2] * sizes[:, 3]).mean() > 11


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_images={"train": -1}), "must be >= 0"),
    (dict(num_images={"a/b": 1}), "split name"),
    (dict(num_images={"train": 1}, image_size=(16, 16)), "at least 32x32"),
])
def test_bad_parameters_raise_clear_errors(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_dataset(tmp_path, progress=False, **kwargs)


def test_generator_works_without_mmdet(tmp_path):
    code = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('mmdet', 'mmengine', 'mmcv', 'torch'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import srtod.data, srtod.data.synthetic, srtod.data.validate, srtod.data.stats
import srtod.data.visdrone, srtod.data.catalog
s = srtod.data.synthetic.generate_dataset({str(tmp_path)!r}, num_images={{'train': 1}},
                                          image_size=64, progress=False)
print(s['splits']['train']['images'])
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1"
