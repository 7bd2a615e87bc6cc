"""``python -m srtod evaluate`` and the paper-style formatting helpers."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from random_problems import random_detection_problem

from srtod.cli import main
from srtod.evaluation import evaluate_coco, format_metrics, metrics_table, result_to_json


@pytest.fixture()
def files(tmp_path):
    gt, dets = random_detection_problem(n_images=6, dets_per_image=50, seed=5)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    return tmp_path, gt, dets


def test_evaluate_prints_table_and_writes_json(files, capsys):
    tmp, gt, dets = files
    out = tmp / "sub" / "metrics.json"
    rc = main(
        ["evaluate", str(tmp / "gt.json"), str(tmp / "dets.json"), "--out", str(out), "--classwise"]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    for name in ("AP50", "APvt", "APt", "APs", "APm", "AR@1500", "ARvt", "class1"):
        assert name in printed
    written = json.loads(out.read_text())
    expected = evaluate_coco(gt, dets)["metrics"]
    assert written["metrics"]["AP"] == pytest.approx(expected["AP"])
    assert written["per_class"]["class4"]["AP"] is None  # no gt -> null
    assert f"{expected['AP']:.1f}" in printed


def test_coco_protocol_names(files, capsys):
    tmp, _, _ = files
    assert (
        main(["evaluate", str(tmp / "gt.json"), str(tmp / "dets.json"), "--protocol", "coco"]) == 0
    )
    printed = capsys.readouterr().out
    assert "APl" in printed and "AR@10" in printed and "APvt" not in printed


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            lambda d: d[3].__setitem__("bbox", [1, 2, 3]),
            "dets.json: detection #3: 'bbox' must be 4",
        ),
        (lambda d: d[0].__setitem__("image_id", 999), "dets.json: detection #0: image_id=999"),
    ],
)
def test_malformed_input_exits_nonzero_with_one_line(files, capsys, edit, message):
    tmp, _, dets = files
    edit(dets)
    (tmp / "dets.json").write_text(json.dumps(dets))
    rc = main(["evaluate", str(tmp / "gt.json"), str(tmp / "dets.json")])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_module_entry_point_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "srtod",
            "evaluate",
            str(tmp_path / "nope.json"),
            str(tmp_path / "dets.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "nope.json: ground-truth file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_format_helpers():
    assert format_metrics({"AP": 39.04, "APm": math.nan, "AR@100": 5.06}) == {
        "AP": "39.0",
        "APm": "-",
        "AR@100": "5.1",
    }
    assert format_metrics({"AP": 12.3449}, digits=2) == {"AP": "12.34"}
    gt, dets = random_detection_problem(n_images=3, dets_per_image=10, seed=1)
    result = evaluate_coco(gt, dets)
    assert "class1" in metrics_table(result, classwise=True)
    assert "class1" not in metrics_table(result)
    json.dumps(result_to_json(result), allow_nan=False)  # strict JSON: NaN became null
