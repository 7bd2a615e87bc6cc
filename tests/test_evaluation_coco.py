"""evaluate_coco against pycocotools' raw arrays, summarised independently here; edge cases."""

from __future__ import annotations

import contextlib
import copy
import io
import math

import numpy as np
import pytest
from pycocotools.coco import COCO as RefCOCO
from pycocotools.cocoeval import COCOeval as RefCOCOeval
from random_problems import random_detection_problem

from srtod.evaluation import evaluate_coco, get_protocol, pr_curves

# The AI-TOD evaluator's parameters, spelled out here (not taken from srtod.evaluation).
REF_PARAMS = {
    "aitod": {
        "areaRng": [[0, 1e10], [0, 64], [64, 256], [256, 1024], [1024, 1e10]],
        "areaRngLbl": ["all", "verytiny", "tiny", "small", "medium"],
        "keys": ["all", "vt", "t", "s", "m"],
        "maxDets": [100, 300, 1500],
    },
    "coco": {
        "areaRng": [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]],
        "areaRngLbl": ["all", "small", "medium", "large"],
        "keys": ["all", "s", "m", "l"],
        "maxDets": [1, 10, 100],
    },
    "visdrone": {
        "areaRng": [[0, 1e10], [0, 1024], [1024, 9216], [9216, 1e10]],
        "areaRngLbl": ["all", "small", "medium", "large"],
        "keys": ["all", "s", "m", "l"],
        "maxDets": [1, 10, 100, 500],
    },
}


def reference_eval(gt: dict, dets: list, protocol: str) -> RefCOCOeval:
    """pycocotools evaluate + accumulate with the protocol's area ranges and maxDets."""
    spec = REF_PARAMS[protocol]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = RefCOCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.dataset.setdefault("info", {})
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = RefCOCOeval(coco_gt, coco_dt, "bbox")
        ev.params.areaRng = spec["areaRng"]
        ev.params.areaRngLbl = spec["areaRngLbl"]
        ev.params.maxDets = spec["maxDets"]
        ev.evaluate()
        ev.accumulate()
    return ev


def reference_stats(ev: RefCOCOeval, protocol: str, k: int | None = None) -> dict[str, float]:
    """Every reported number, in percent, from pycocotools' eval['precision'/'recall'].

    Mirrors pycocotools' _summarize: mean over entries > -1; -1 (no gt) becomes NaN.
    """
    spec = REF_PARAMS[protocol]
    p = ev.params
    prec, rec = ev.eval["precision"], ev.eval["recall"]
    if k is not None:
        prec, rec = prec[:, :, [k]], rec[:, [k]]
    ap_m = p.maxDets.index(max(spec["maxDets"]))

    def mean(s: np.ndarray) -> float:
        s = s[s > -1]
        return 100.0 * float(np.mean(s)) if len(s) else math.nan

    def ap(area: str, iou: float | None = None) -> float:
        s = prec[:, :, :, p.areaRngLbl.index(area), ap_m]
        if iou is not None:
            s = s[np.where(np.abs(p.iouThrs - iou) < 1e-9)[0]]
        return mean(s)

    def ar(area: str, max_det: int) -> float:
        return mean(rec[:, :, p.areaRngLbl.index(area), p.maxDets.index(max_det)])

    out = {"AP": ap("all"), "AP50": ap("all", 0.5), "AP75": ap("all", 0.75)}
    for key, label in zip(spec["keys"][1:], spec["areaRngLbl"][1:], strict=True):
        out["AP" + key] = ap(label)
    for n in spec["maxDets"]:
        out[f"AR@{n}"] = ar("all", n)
    for key, label in zip(spec["keys"][1:], spec["areaRngLbl"][1:], strict=True):
        out["AR" + key] = ar(label, max(spec["maxDets"]))
    return out


def assert_same(ours: dict[str, float], ref: dict[str, float], tol: float = 1e-4) -> None:
    assert list(ours) == list(ref)
    for name, value in ref.items():
        if math.isnan(value):
            assert math.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value, abs=tol), name


CASES = {  # protocol: (images, detections per image range); score ties from 3-decimal scores
    "aitod": (40, (0, 1500)),
    "coco": (20, (0, 400)),
    "visdrone": (20, (0, 800)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def agreement_case(request):
    protocol = request.param
    n_images, n_dets = CASES[protocol]
    gt, dets = random_detection_problem(
        n_images=n_images,
        n_classes=4,
        gts_per_image=20,
        dets_per_image=n_dets,
        seed=3,
        score_decimals=3,
    )
    return protocol, gt, dets, reference_eval(gt, dets, protocol)


def test_problem_covers_the_hard_parts(agreement_case):
    protocol, gt, dets, _ = agreement_case
    areas = np.array([a["area"] for a in gt["annotations"]])
    assert {64.0, 256.0, 1024.0} <= set(areas.tolist())  # inclusive bucket boundaries
    for lo, hi in REF_PARAMS["aitod"]["areaRng"][1:]:
        assert ((areas >= lo) & (areas <= hi)).sum() > 20
    assert any(a["iscrowd"] for a in gt["annotations"])
    assert any(a.get("ignore") for a in gt["annotations"])
    assert not any(a["category_id"] == 4 for a in gt["annotations"])  # class without gt
    assert any(d["category_id"] == 4 for d in dets)
    per_image = np.bincount([d["image_id"] for d in dets])
    if protocol == "aitod":
        assert per_image.max() > 1000


def test_agrees_with_pycocotools(agreement_case):
    protocol, gt, dets, ref = agreement_case
    gt_before, dets_before = copy.deepcopy(gt), copy.deepcopy(dets)
    result = evaluate_coco(gt, dets, protocol=protocol)
    assert gt == gt_before and dets == dets_before  # inputs untouched

    assert list(result["metrics"]) == get_protocol(protocol).metric_names
    assert_same(result["metrics"], reference_stats(ref, protocol))
    for k, name in enumerate(result["params"]["cat_names"]):
        expected = {n: v for n, v in reference_stats(ref, protocol, k).items() if n[:2] == "AP"}
        assert_same(result["per_class"][name], expected)
    assert math.isnan(result["per_class"]["class4"]["AP"])  # no gt: NaN, not 0
    np.testing.assert_allclose(result["precision"], ref.eval["precision"], atol=1e-9)
    np.testing.assert_allclose(result["recall"], ref.eval["recall"], atol=1e-9)


def test_pr_curves_match_reference(agreement_case):
    protocol, gt, dets, ref = agreement_case
    curves = pr_curves(evaluate_coco(gt, dets, protocol=protocol))
    keys = REF_PARAMS[protocol]["keys"]
    assert list(curves.columns) == ["bucket", "recall", "precision_50", "precision_50_95"]
    assert curves["bucket"].unique().tolist() == keys and len(curves) == 101 * len(keys)
    prec = ref.eval["precision"][:, :, :, 0, -1]  # all areas, largest maxDets
    valid = prec[0, 0] > -1
    expected_50 = prec[0][:, valid].mean(axis=1)
    expected_all = prec[:, :, valid].mean(axis=(0, 2))
    got = curves[curves["bucket"] == "all"]
    np.testing.assert_allclose(got["precision_50"], expected_50, atol=1e-12)
    np.testing.assert_allclose(got["precision_50_95"], expected_all, atol=1e-12)
    np.testing.assert_allclose(got["recall"], np.linspace(0, 1, 101))


# --- edge cases --------------------------------------------------------------------------------


def _gt(boxes, n_images=1, n_classes=1, crowd=()):
    anns = [
        {
            "id": j + 1,
            "image_id": img,
            "category_id": cat,
            "bbox": list(b),
            "area": float(b[2] * b[3]),
            "iscrowd": int(j in crowd),
        }
        for j, (img, cat, b) in enumerate(boxes)
    ]
    return {
        "images": [{"id": i} for i in range(1, n_images + 1)],
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in range(1, n_classes + 1)],
    }


def _det(img, cat, box, score):
    return {"image_id": img, "category_id": cat, "bbox": list(box), "score": score}


def test_perfect_detection_is_100_and_empty_buckets_are_nan():
    gt = _gt([(1, 1, (10, 10, 4, 4)), (1, 1, (50, 50, 12, 12))])  # very tiny + tiny
    res = evaluate_coco(gt, [_det(1, 1, (10, 10, 4, 4), 0.9), _det(1, 1, (50, 50, 12, 12), 0.8)])
    m = res["metrics"]
    assert m["AP"] == m["AP50"] == m["APvt"] == m["APt"] == m["AR@100"] == pytest.approx(100)
    assert math.isnan(m["APs"]) and math.isnan(m["APm"]) and math.isnan(m["ARm"])


def test_bucket_boundaries_are_inclusive():
    gt = _gt([(1, 1, (10, 10, 8, 8))])  # area exactly 8^2: very tiny *and* tiny
    m = evaluate_coco(gt, [_det(1, 1, (10, 10, 8, 8), 0.9)])["metrics"]
    assert m["APvt"] == m["APt"] == pytest.approx(100)
    assert math.isnan(m["APs"])


def test_no_detections_at_all():
    gt, _ = random_detection_problem(n_images=5, dets_per_image=0, seed=1)
    res = evaluate_coco(gt, [])
    for name, value in res["metrics"].items():
        assert value == 0.0, name  # every bucket has gt here: AP/AR are 0, not NaN
    assert res["counts"]["dets"] == 0


def test_image_without_ground_truth_counts_false_positives():
    gt = _gt([(1, 1, (10, 10, 20, 20))], n_images=2)
    hit = _det(1, 1, (10, 10, 20, 20), 0.8)
    assert evaluate_coco(gt, [hit])["metrics"]["AP"] == pytest.approx(100)
    # a higher-scoring detection on image 2 (no gt): precision 1/2 at recall 1 -> AP 50
    res = evaluate_coco(gt, [hit, _det(2, 1, (10, 10, 20, 20), 0.9)])
    assert res["metrics"]["AP"] == pytest.approx(50)
    assert res["metrics"]["AR@1500"] == pytest.approx(100)


def test_class_without_ground_truth_is_left_out_of_the_mean():
    gt = _gt([(1, 1, (10, 10, 20, 20))], n_classes=2)
    hit = _det(1, 1, (10, 10, 20, 20), 0.8)
    res = evaluate_coco(gt, [hit, _det(1, 2, (10, 10, 20, 20), 0.95)])
    assert res["metrics"]["AP"] == pytest.approx(100)
    assert all(math.isnan(v) for v in res["per_class"]["c2"].values())


def test_only_1500_top_scoring_detections_per_image_and_class_count():
    gt = _gt([(1, 1, (100, 100, 10, 10))], n_classes=2)
    rng = np.random.default_rng(0)
    misses = [
        _det(
            1,
            1,
            (400 + rng.uniform(0, 300), rng.uniform(0, 700), 10, 10),
            float(rng.uniform(0.5, 0.9)),
        )
        for _ in range(1500)
    ]
    hit = _det(1, 1, (100, 100, 10, 10), 0.1)  # the 1501st by score
    other_class = [_det(1, 2, (5, 5, 5, 5), 0.2)] * 3  # another class: its own limit
    dets = misses[:700] + [hit] + other_class + misses[700:]
    m = evaluate_coco(gt, dets)["metrics"]
    assert m["AP"] == 0.0 and m["AR@1500"] == 0.0
    m = evaluate_coco(gt, dets[1:])["metrics"]  # 1499 misses: the hit is 1500th and counts
    assert m["AR@1500"] == pytest.approx(100) and m["AR@300"] == 0.0 and m["AR@100"] == 0.0
    assert m["AP50"] == pytest.approx(100 / 1500)


def test_crowd_region_absorbs_detections():
    gt = _gt([(1, 1, (10, 10, 20, 20)), (1, 1, (100, 100, 80, 80))], crowd=(1,))
    dets = [_det(1, 1, (10, 10, 20, 20), 0.5), _det(1, 1, (110, 110, 20, 20), 0.9)]
    res = evaluate_coco(gt, dets)  # the detection inside the crowd box is ignored, not a FP
    assert res["metrics"]["AP"] == pytest.approx(100)
    assert res["counts"]["gt"] == 1 and res["counts"]["gt_crowd"] == 1


def test_accepts_paths(tmp_path):
    import json

    gt, dets = random_detection_problem(n_images=3, dets_per_image=20, seed=2)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    from_files = evaluate_coco(tmp_path / "gt.json", str(tmp_path / "dets.json"))
    assert from_files["metrics"] == pytest.approx(evaluate_coco(gt, dets)["metrics"], nan_ok=True)


def test_unknown_protocol_and_iou_type():
    gt = _gt([(1, 1, (10, 10, 20, 20))])
    with pytest.raises(ValueError, match="unknown evaluation protocol"):
        evaluate_coco(gt, [], protocol="voc")
    with pytest.raises(ValueError, match="only 'bbox'"):
        evaluate_coco(gt, [], iou_type="segm")
