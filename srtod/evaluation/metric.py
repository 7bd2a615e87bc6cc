"""``AITODMetric``: the AI-TOD (or COCO / VisDrone) box metric for mmdet configs.

Usage in a config (``custom_imports = dict(imports=["srtod.evaluation.metric"])``)::

    val_evaluator = dict(type="AITODMetric", ann_file=data_root + "annotations/val.json",
                         protocol="aitod", classwise=True)

It consumes what mmdet's val/test loops pass to metrics (``data_sample["pred_instances"]`` with
``bboxes`` (xyxy, original image pixels), ``scores``, ``labels`` and ``data_sample["img_id"]``)
and reports ``<prefix>/AP``, ``<prefix>/AP50``, ``<prefix>/APvt`` ... in percent (full
precision; NaN = no ground truth in the bucket), the prefix defaulting to the protocol name.
Label ``i`` is the i-th category of the annotation file whose name is in
``dataset_meta["classes"]`` (file order), exactly as mmdet's ``CocoDataset`` assigns labels.
Without ``ann_file`` the ground truth is rebuilt from ``data_sample["instances"]`` (as mmdet's
``CocoMetric`` does): category id = label, ``iscrowd`` = ``ignore_flag``, area = w * h.
"""

from __future__ import annotations

import json
import os.path as osp
from collections.abc import Sequence
from typing import Any

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger

from .coco_eval import evaluate_coco
from .formatting import metrics_table, result_to_json
from .inputs import GroundTruth, check_detections, load_ground_truth
from .protocols import Protocol, get_protocol


def _field(obj: Any, key: str) -> Any:
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


@METRICS.register_module()
class AITODMetric(BaseMetric):
    """AI-TOD box metric (AP, AP50, AP75, APvt, APt, APs, APm, AR@100/300/1500, AR per bucket).

    Args:
        ann_file: COCO ground-truth json (the dataset's ``ann_file``); ``None`` rebuilds it from
            the data samples' ``instances``.
        protocol: ``"aitod"``, ``"coco"`` or ``"visdrone"`` (see ``srtod.evaluation.protocols``).
        classwise: also report per-class AP (keys ``AP_<class>``) and log a per-class table.
        outfile_prefix: if set, write ``<prefix>.bbox.json`` (COCO results) and
            ``<prefix>.metrics.json`` (summary, per-class AP).
        backend_args: mmengine file backend arguments for ``ann_file``.
        collect_device, prefix: see ``mmengine.evaluator.BaseMetric``; ``prefix`` defaults to
            the protocol name (``aitod/AP``).
    """

    default_prefix: str | None = "aitod"

    def __init__(
        self,
        ann_file: str | None = None,
        protocol: str | Protocol = "aitod",
        classwise: bool = False,
        outfile_prefix: str | None = None,
        backend_args: dict | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
    ) -> None:
        self.protocol = get_protocol(protocol)
        super().__init__(collect_device=collect_device, prefix=prefix or self.protocol.name)
        self.classwise = classwise
        self.outfile_prefix = outfile_prefix
        self._gt: GroundTruth | None = None
        if ann_file is not None:
            with get_local_path(ann_file, backend_args=backend_args) as local_path:
                self._gt = load_ground_truth(local_path, source=osp.basename(str(ann_file)))

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the predictions (and, without ``ann_file``, the ground truth) of a batch."""
        for sample in data_samples:
            pred = _field(sample, "pred_instances")
            result = {
                "img_id": int(_field(sample, "img_id")),
                "bboxes": _numpy(_field(pred, "bboxes")).reshape(-1, 4).astype(np.float64),
                "scores": _numpy(_field(pred, "scores")).reshape(-1).astype(np.float64),
                "labels": _numpy(_field(pred, "labels")).reshape(-1).astype(np.int64),
            }
            if self._gt is None:
                if "instances" not in sample:
                    raise ValueError(
                        "AITODMetric needs `ann_file` or data samples with 'instances'"
                    )
                result["instances"] = [
                    {
                        "bbox": list(map(float, a["bbox"])),
                        "bbox_label": int(a["bbox_label"]),
                        "ignore_flag": int(a.get("ignore_flag", 0)),
                    }
                    for a in sample["instances"]
                ]
            self.results.append(result)

    def _ground_truth(self, results: list[dict]) -> GroundTruth:
        if self._gt is not None:
            return self._gt
        classes = (self.dataset_meta or {}).get("classes")
        if not classes:
            labels = [a["bbox_label"] for r in results for a in r["instances"]]
            classes = [str(i) for i in range(max(labels, default=-1) + 1)] or ["0"]
        anns = [
            {
                "id": n,
                "image_id": r["img_id"],
                "category_id": a["bbox_label"],
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "area": (x1 - x0) * (y1 - y0),
                "iscrowd": a["ignore_flag"],
            }
            for n, (r, a) in enumerate(((r, a) for r in results for a in r["instances"]), 1)
            for x0, y0, x1, y1 in [a["bbox"]]
        ]
        gt = {
            "images": [{"id": i} for i in sorted({r["img_id"] for r in results})],
            "annotations": anns,
            "categories": [{"id": i, "name": str(c)} for i, c in enumerate(classes)],
        }
        return load_ground_truth(gt, source="<ground truth from data samples>")

    def _label_to_cat_id(self, gt: GroundTruth) -> np.ndarray:
        classes = (self.dataset_meta or {}).get("classes")
        if self._gt is None or not classes:
            return np.asarray(gt.file_cat_ids, dtype=np.int64)
        names = dict(zip(gt.cat_ids.tolist(), gt.cat_names, strict=True))
        wanted = set(map(str, classes))
        return np.asarray([c for c in gt.file_cat_ids if names[c] in wanted], dtype=np.int64)

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Evaluate all kept predictions; returns metric name -> percent (prefix added later)."""
        logger = MMLogger.get_current_instance()
        gt = self._ground_truth(results)
        cat_of_label = self._label_to_cat_id(gt)
        n = [len(r["scores"]) for r in results]
        labels = np.concatenate([r["labels"] for r in results]) if results else np.zeros(0, int)
        if labels.size and (labels.min() < 0 or labels.max() >= len(cat_of_label)):
            raise ValueError(
                f"predicted label {int(labels.max())} has no category: the ground truth maps "
                f"{len(cat_of_label)} labels to category ids {cat_of_label.tolist()}"
            )
        xyxy = np.concatenate([r["bboxes"] for r in results]) if results else np.zeros((0, 4))
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        dets = check_detections(
            image_id=np.repeat([r["img_id"] for r in results], n).astype(np.int64),
            category_id=cat_of_label[labels],
            bbox=xywh,
            score=np.concatenate([r["scores"] for r in results]) if results else np.zeros(0),
            gt=gt,
            source="<predictions>",
        )
        result = evaluate_coco(gt, dets, protocol=self.protocol)
        logger.info("\n" + metrics_table(result, classwise=self.classwise))

        if self.outfile_prefix is not None:
            records = [
                {"image_id": i, "category_id": c, "bbox": b, "score": s}
                for i, c, b, s in zip(
                    dets.image_id.tolist(),
                    dets.category_id.tolist(),
                    dets.bbox.tolist(),
                    dets.score.tolist(),
                    strict=True,
                )
            ]
            with open(f"{self.outfile_prefix}.bbox.json", "w") as f:
                json.dump(records, f)
            with open(f"{self.outfile_prefix}.metrics.json", "w") as f:
                json.dump(result_to_json(result), f, indent=2)
            logger.info(f"results written to {self.outfile_prefix}.bbox.json")

        metrics = dict(result["metrics"])
        if self.classwise:
            for name, values in result["per_class"].items():
                metrics[f"AP_{name}"] = values["AP"]
        return metrics
