"""`make publish`: the last results go to docs/results/<profile>/ with provenance, PNGs <= 300 KB."""

import json

import numpy as np
import pytest

from srtod.stages.params import load_params, profile_runs
from srtod.stages.publish import MAX_PNG_BYTES, publish, shrink_png


def _noisy_png(path, side=900):
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path)


def test_large_png_is_shrunk_below_the_limit(tmp_path):
    _noisy_png(tmp_path / "big.png")
    assert (tmp_path / "big.png").stat().st_size > MAX_PNG_BYTES
    size = shrink_png(tmp_path / "big.png", tmp_path / "small.png")
    assert size == (tmp_path / "small.png").stat().st_size <= MAX_PNG_BYTES


def test_publish_copies_tables_figures_and_provenance(tmp_path):
    results, docs = tmp_path / "results", tmp_path / "docs"
    with pytest.raises(FileNotFoundError, match="make repro"):
        publish(results, docs)
    (results / "eval" / "faster_rcnn").mkdir(parents=True)  # 1 of the default's runs
    (results / "eval" / "faster_rcnn" / "metrics.json").write_text(
        json.dumps({"profile": "default", "enabled": True}))
    (results / "tables").mkdir()
    (results / "tables" / "compare.md").write_text("### Paired\n\n| a |\n| --- |\n| 1 |\n")
    (results / "tables" / "table1.md").write_text("### Tab. 1\n")
    (results / "tables" / "runs.csv").write_text("run,train s\nfaster_rcnn,100.5\nb,20\n")
    (results / "figures").mkdir()
    _noisy_png(results / "figures" / "paired_differences.png")
    (results / "repro_time.json").write_text('{"seconds": 1500, "finished": "2026-01-01T00:00:00Z"}')
    (results / "train" / "faster_rcnn").mkdir(parents=True)  # what the train stage records
    sitting = {"from_iter": 0, "source": {"commit": "abcdef1234567", "clean": True},
               "machine_id": "CPU X", "numerics": {"within_contract": True}}
    (results / "train" / "faster_rcnn" / "summary.json").write_text(json.dumps(
        {"provenance": [sitting], "fingerprints": {"1": "00ff", "2": "11ee"}}))
    out = publish(results, docs)
    prints = json.loads((out / "fingerprints.json").read_text())
    assert prints["runs"]["faster_rcnn"]["epochs"] == {"1": "00ff", "2": "11ee"}
    assert prints["runs"]["faster_rcnn"]["commit"] == "abcdef1234567"
    assert out == docs / "default"
    readme = (out / "README.md").read_text()
    assert "25.0 min" in readme and "### Paired" in readme and "![paired_differences.png]" in readme
    assert readme.index("### Paired") < readme.index("### Tab. 1")  # the comparison comes first
    n = len(profile_runs(load_params(profile="default")["active"]))
    assert f"runs evaluated: 1 of the profile's {n} (a partial run of this profile: faster_rcnn)" \
        in readme
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["profile"] == "default" and provenance["sum_of_training_seconds"] == 120.5
    assert provenance["trained"]["faster_rcnn"]["machine"] == "CPU X"
    assert "trained: commit abcdef1234; CPU X; every run within the numeric contract" in readme
    assert (out / "paired_differences.png").stat().st_size <= MAX_PNG_BYTES
