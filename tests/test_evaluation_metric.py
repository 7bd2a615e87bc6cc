"""AITODMetric on fake data samples as mmdet's val loop passes them (dicts with tensors)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
try:
    from mmdet.registry import METRICS

    from srtod.evaluation.metric import AITODMetric
except Exception as exc:  # mmdet/mmcv missing or broken: the plain evaluator is tested elsewhere
    pytest.skip(f"mmdet not importable: {exc}", allow_module_level=True)

# categories deliberately not in id order: label i is the i-th category *in the file*
GT = {
    "images": [{"id": 3, "width": 100, "height": 80}, {"id": 7, "width": 100, "height": 80}],
    "categories": [{"id": 5, "name": "drone"}, {"id": 2, "name": "bird"}],
    "annotations": [
        {
            "id": 1,
            "image_id": 3,
            "category_id": 5,
            "bbox": [10, 10, 6, 6],
            "area": 36,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 3,
            "category_id": 2,
            "bbox": [40, 20, 12, 10],
            "area": 120,
            "iscrowd": 0,
        },
        {
            "id": 3,
            "image_id": 7,
            "category_id": 5,
            "bbox": [60, 50, 20, 20],
            "area": 400,
            "iscrowd": 0,
        },
    ],
}
CLASSES = ("drone", "bird")


def _sample(img_id, boxes_xyxy, labels, scores):
    return {
        "img_id": img_id,
        "ori_shape": (80, 100),
        "pred_instances": {
            "bboxes": torch.tensor(boxes_xyxy, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.long),
            "scores": torch.tensor(scores, dtype=torch.float32),
        },
    }


def _perfect_samples():
    return [
        _sample(3, [[10, 10, 16, 16], [40, 20, 52, 30]], [0, 1], [0.9, 0.8]),
        _sample(7, [[60, 50, 80, 70]], [0], [0.7]),
    ]


@pytest.fixture()
def ann_file(tmp_path):
    path = tmp_path / "val.json"
    path.write_text(json.dumps(GT))
    return str(path)


def test_registered_and_buildable_from_config(ann_file):
    metric = METRICS.build(dict(type="AITODMetric", ann_file=ann_file, protocol="aitod"))
    assert isinstance(metric, AITODMetric)


def test_perfect_predictions_give_100(ann_file, tmp_path):
    metric = AITODMetric(ann_file=ann_file, classwise=True, outfile_prefix=str(tmp_path / "res"))
    metric.dataset_meta = {"classes": CLASSES}
    metric.process({}, _perfect_samples()[:1])  # two batches, as the val loop does
    metric.process({}, _perfect_samples()[1:])
    out = metric.evaluate(size=2)

    for key in (
        "AP",
        "AP50",
        "AP75",
        "APvt",
        "APt",
        "APs",
        "APm",
        "AR@100",
        "AR@300",
        "AR@1500",
        "ARvt",
        "ARt",
        "ARs",
        "ARm",
        "AP_drone",
        "AP_bird",
    ):
        assert f"aitod/{key}" in out, key
    for key in ("AP", "AP50", "APvt", "APt", "APs", "AR@1500", "AP_drone", "AP_bird"):
        assert out[f"aitod/{key}"] == pytest.approx(100.0), key
    assert math.isnan(out["aitod/APm"])  # no medium object: NaN, not 0
    written = json.loads((tmp_path / "res.bbox.json").read_text())
    assert {(d["image_id"], d["category_id"]) for d in written} == {(3, 5), (3, 2), (7, 5)}
    assert written[0]["bbox"] == pytest.approx([10, 10, 6, 6])
    assert json.loads((tmp_path / "res.metrics.json").read_text())["metrics"]["AP"] == 100.0


def test_wrong_label_and_misses(ann_file):
    metric = AITODMetric(ann_file=ann_file)
    metric.dataset_meta = {"classes": CLASSES}
    samples = _perfect_samples()
    samples[1]["pred_instances"]["labels"] = torch.tensor([1])  # drone predicted as bird
    metric.process({}, samples)
    out = metric.evaluate(size=2)
    assert 0 < out["aitod/AP"] < 100
    assert out["aitod/APvt"] == pytest.approx(100.0)  # the very tiny drone is still found


def test_protocol_and_prefix(ann_file):
    metric = AITODMetric(ann_file=ann_file, protocol="coco")
    metric.dataset_meta = {"classes": CLASSES}
    metric.process({}, [_sample(3, np.zeros((0, 4)), [], [])])  # no detections at all
    out = metric.evaluate(size=1)
    assert out["coco/AP"] == 0.0 and "coco/APl" in out and "coco/AR@1" in out


def test_ground_truth_from_instances_without_ann_file():
    metric = AITODMetric()
    metric.dataset_meta = {"classes": ("drone",)}
    sample = _sample(0, [[10, 10, 16, 16]], [0], [0.9])
    sample["instances"] = [{"bbox": [10, 10, 16, 16], "bbox_label": 0, "ignore_flag": 0}]
    metric.process({}, [sample])
    out = metric.evaluate(size=1)
    assert out["aitod/AP"] == pytest.approx(100.0)


def test_through_mmengine_evaluator_with_det_data_samples(ann_file):
    from mmdet.structures import DetDataSample
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    with DefaultScope.overwrite_default_scope("mmdet"):  # as a runner with default_scope="mmdet"
        evaluator = Evaluator(dict(type="AITODMetric", ann_file=ann_file))
    evaluator.dataset_meta = {"classes": CLASSES}
    samples = []
    for raw in _perfect_samples():
        sample = DetDataSample(metainfo={"img_id": raw["img_id"], "ori_shape": (80, 100)})
        sample.pred_instances = InstanceData(**raw["pred_instances"])
        samples.append(sample)
    evaluator.process(data_samples=samples, data_batch={})
    out = evaluator.evaluate(len(samples))
    assert out["aitod/AP"] == pytest.approx(100.0)
