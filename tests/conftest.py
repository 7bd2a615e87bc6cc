"""Shared fixtures: small random detection batches in mmdet's packed format."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def offline_config(config, **options):
    """``load_config(config, options=options)`` with every ImageNet initialisation removed (the
    tests run without network): each ``init_cfg`` of type Pretrained, e.g. the backbone's and
    DetectoRS' second backbone's."""
    from srtod.config import load_config, random_init

    return random_init(load_config(config, options=options or None))


def make_batch(sizes=((256, 256), (240, 200)), boxes_per_image: int = 5, seed: int = 0) -> dict:
    """A packed batch (``inputs``, ``data_samples``) as mmdet's PackDetInputs produces it, with
    tiny boxes (4-20 px) of class 0."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for i, (h, w) in enumerate(sizes):
        inputs.append(torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8)))
        wh = rng.uniform(4, 20, (boxes_per_image, 2))
        xy = rng.uniform(0, 1, (boxes_per_image, 2)) * (np.array([w, h]) - wh)
        sample = DetDataSample(metainfo=dict(img_id=i, img_shape=(h, w), ori_shape=(h, w),
                                             scale_factor=(1.0, 1.0), pad_shape=(h, w)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(np.hstack([xy, xy + wh]), dtype=torch.float32),
            labels=torch.zeros(boxes_per_image, dtype=torch.long))
        sample.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4),
                                                labels=torch.zeros(0, dtype=torch.long))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture
def batch():
    return make_batch()


@pytest.fixture
def srtod_cli(capsys):
    """``python -m srtod`` in this process (no second start of torch and mmdet): returns an
    object with ``returncode``, ``stdout`` and ``stderr`` as ``subprocess.run`` does."""
    from types import SimpleNamespace

    from srtod.cli import main

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


def relabel_two_classes(root) -> None:
    """Every second object of the COCO jsons under ``root/annotations`` relabelled ``bird`` (id 7:
    ids need not start at 1 nor be contiguous), the others ``drone`` (id 1)."""
    import json

    for ann_file in (root / "annotations").glob("*.json"):
        data = json.loads(ann_file.read_text())
        data["categories"] = [{"id": 1, "name": "drone"}, {"id": 7, "name": "bird"}]
        for i, ann in enumerate(data["annotations"]):
            ann["category_id"] = 7 if i % 2 else 1
        ann_file.write_text(json.dumps(data))
