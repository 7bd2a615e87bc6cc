"""The data verbs of ``python -m srtod``: generate, convert, validate, stats."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from test_data_fixtures import FIXTURES, copy_fixture

from srtod.cli import main


def test_generate_help_in_a_subprocess():
    res = subprocess.run([sys.executable, "-m", "srtod", "generate", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert "--seed" in res.stdout and "--size" in res.stdout


@pytest.mark.parametrize("verb", ["convert", "validate", "stats"])
def test_help_of_each_verb(verb, capsys):
    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    assert exc.value.code == 0
    assert "usage: python -m srtod " + verb in capsys.readouterr().out


def test_generate_stats_validate_round_trip(tmp_path, capsys):
    out = tmp_path / "syn"
    assert main(["generate", "--out", str(out), "--train", "3", "--val", "1", "--test", "1",
                 "--size", "96", "--seed", "5", "--no-progress", "--summary",
                 str(tmp_path / "summary.json")]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["image_size"] == [96, 96] and summary["splits"]["train"]["images"] == 3
    assert "images/s" in capsys.readouterr().out

    assert main(["stats", str(out), "--out", str(tmp_path / "stats.json"), "--csv",
                 str(tmp_path / "objects.csv")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[2].split()[:2] == ["train", "3"]
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert list(stats) == ["train", "val", "test"]
    n_rows = len((tmp_path / "objects.csv").read_text().splitlines()) - 1
    assert n_rows == sum(s["instances"] for s in stats.values())

    assert main(["validate", str(out), "--no-fix"]) == 0  # generated data is clean
    assert "issues: none" in capsys.readouterr().out


def test_generate_rejects_three_sizes(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path), "--size", "1", "2", "3"]) == 2
    assert "error: --size takes 1 or 2 values" in capsys.readouterr().err


def test_validate_exit_codes(tmp_path, capsys):
    root = copy_fixture("coco_bad", tmp_path)
    ann = root / "annotations" / "train.json"
    assert main(["validate", str(ann), "--no-fix"]) == 1
    assert main(["validate", str(ann), "--out", str(tmp_path / "fixed.json")]) == 0
    assert (tmp_path / "fixed.json").exists()
    capsys.readouterr()
    broken = tmp_path / "broken.json"
    shutil.copy(FIXTURES / "coco_broken.json", broken)
    assert main(["validate", str(broken), "--img-dir", str(root / "images" / "train")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken}:4:") and "Traceback" not in err
    assert main(["validate", str(ann), "--out", str(ann)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_convert_modes_and_errors(tmp_path, capsys):
    root = copy_fixture("visdrone", tmp_path)
    assert main(["convert", str(root), "--quiet"]) == 0
    assert (root / "annotations" / "val.json").exists()
    out = capsys.readouterr().out
    assert "others_dropped" in out and "malformed_line" in out
    split = root / "VisDrone2019-DET-val"
    assert main(["convert", str(split)]) == 2
    assert "give the output json with --out" in capsys.readouterr().err
    assert main(["convert", str(split), "--out", str(tmp_path / "v.json")]) == 0
    assert main(["convert", str(tmp_path / "nope")]) == 2
    assert "nope: no such folder" in capsys.readouterr().err


def test_stats_errors(tmp_path, capsys):
    assert main(["stats", str(tmp_path)]) == 2
    assert "no annotations/<split>.json found" in capsys.readouterr().err
    assert main(["stats", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: COCO annotation file not found" in capsys.readouterr().err
