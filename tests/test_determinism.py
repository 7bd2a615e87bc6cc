"""The numeric contract, what a run records of what made it, and the determinism probe against
the committed reference fingerprint (docs/results/determinism/)."""

import json
import os
import subprocess
import sys

import pytest
import torch

from srtod import numerics
from srtod.engine.hooks import weights_fingerprint
from srtod.paths import ROOT
from srtod.probe import first_difference, read_reference

FRCNN = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"


def _python(code: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items()
               if k not in numerics.CONTRACT_ENVIRONMENT and k != numerics.MODE_VARIABLE}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environ, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def _has_avx2() -> bool:
    return "avx2" in open("/proc/cpuinfo").read().split() if os.path.exists("/proc/cpuinfo") \
        else False


def test_importing_srtod_sets_the_contract_before_torch_computes():
    out = json.loads(_python("import srtod, json, torch; from srtod.numerics import enter_run; "
                             "print(json.dumps(enter_run(4)))", OMP_NUM_THREADS="2"))
    assert out["mode"] == "contract" and out["threads"] == 1  # 4 asked, the contract's 1 used
    assert out["environment"]["ATEN_CPU_CAPABILITY"] == "avx2"
    assert out["environment"]["MKL_CBWR"] == "AVX2,STRICT"
    if _has_avx2():
        assert out["aten_capability"] == "AVX2" and out["within_contract"], out
    else:
        assert not out["within_contract"] and "AVX2" in out["outside_because"]


def test_native_mode_leaves_the_machine_its_choice_and_says_so():
    out = json.loads(_python("import srtod, json; from srtod.numerics import enter_run; "
                             "print(json.dumps(enter_run(2)))", SRTOD_NUMERICS="native"))
    assert out["mode"] == "native" and out["threads"] == 2
    assert out["environment"]["ATEN_CPU_CAPABILITY"] is None
    assert not out["within_contract"] and out["outside_because"] == "SRTOD_NUMERICS=native"


def test_a_caller_value_is_replaced_and_reported():
    out = json.loads(_python("import srtod, json; from srtod.numerics import state; "
                             "print(json.dumps(state()))", ATEN_CPU_CAPABILITY="avx512"))
    assert out["environment"]["ATEN_CPU_CAPABILITY"] == "avx2"
    assert out["overridden"] == {"ATEN_CPU_CAPABILITY": "avx512"}


def test_an_unknown_mode_names_the_variable(monkeypatch):
    monkeypatch.setenv("SRTOD_NUMERICS", "fast")
    with pytest.raises(ValueError, match="SRTOD_NUMERICS='fast'"):
        numerics.mode()


def test_weights_fingerprint_ignores_memory_format_and_sees_one_ulp():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 3)
    before = weights_fingerprint(conv)
    conv.to(memory_format=torch.channels_last)
    assert weights_fingerprint(conv) == before
    with torch.no_grad():
        w = conv.weight
        w[0, 0, 0, 1] = torch.nextafter(w[0, 0, 0, 1], torch.tensor(float("inf")))
    assert weights_fingerprint(conv) != before


def test_first_difference_names_the_first_module_that_differs():
    run = {"data": "d", "losses": "l", "weights": "w",
           "first_step": [["backbone.conv1", "a"], ["backbone.bn1", "b"], ["neck", "c"]]}
    reference = {"runs": {"faster_rcnn": run, "faster_rcnn_srtod": run}}
    other = json.loads(json.dumps(reference))
    assert first_difference(other, reference) is None
    other["runs"]["faster_rcnn_srtod"]["first_step"][1][1] = "x"
    other["runs"]["faster_rcnn_srtod"]["first_step"][2][1] = "y"
    assert first_difference(other, reference) == \
        "faster_rcnn_srtod: first step, output of module backbone.bn1"
    other = json.loads(json.dumps(reference))
    other["runs"]["faster_rcnn"]["weights"] = "v"
    assert "weights after the last step" in first_difference(other, reference)


@pytest.mark.slow
def test_a_run_carries_its_provenance_and_epoch_fingerprints(tmp_path):
    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.engine import allow_mmengine_checkpoints
    from srtod.engine.runner import train

    generate_dataset(tmp_path / "data", num_images={"train": 4, "val": 2}, image_size=128,
                     seed=0, progress=False)
    cfg = load_config(FRCNN, data_root=tmp_path / "data", options={
        "train_cfg.max_epochs": 3, "train_dataloader.batch_size": 4})
    stopped = train(cfg, tmp_path / "a", progress=False, stop_after_epochs=2)
    prints = json.loads((stopped.work_dir / "fingerprints.json").read_text())
    assert sorted(prints) == ["1", "2"]
    full = train(cfg, tmp_path / "b", progress=False)
    full_prints = json.loads((full.work_dir / "fingerprints.json").read_text())
    # the first epochs of the 3-epoch schedule, stopped early, are the full run's bit for bit
    assert sorted(full_prints) == ["1", "2", "3"] and full_prints["2"] == prints["2"]
    allow_mmengine_checkpoints()
    checkpoint = torch.load(full.checkpoint, map_location="cpu", weights_only=False)
    assert weights_fingerprint(checkpoint["state_dict"]) == full_prints["3"]
    sittings = checkpoint["meta"]["srtod_provenance"]
    assert len(sittings) == 1 and sittings[0]["from_iter"] == 0
    made = sittings[0]
    assert made["source"]["commit"] == subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert made["versions"]["torch"] == torch.__version__.split("+")[0]
    assert made["numerics"]["threads"] == 1 and made["machine"]["cores"] >= 1
    assert "L2" in made["machine"]["caches"] or not os.path.isdir("/sys/devices/system/cpu")


@pytest.mark.slow
def test_probe_gives_the_reference_fingerprint(tmp_path):
    """HEAD's probe against the committed reference: a difference means the numerics changed
    (model code, libraries, or this machine computes otherwise); the published runs then need
    re-training or a note why not (docs/reproducibility.md)."""
    reference = read_reference()
    assert reference is not None, "docs/results/determinism/reference.json is missing"
    out = tmp_path / "probe.json"
    done = subprocess.run([sys.executable, "-m", "srtod", "probe", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items()
                               if k != numerics.MODE_VARIABLE})
    result = json.loads(out.read_text())
    if not result["numerics"]["within_contract"]:
        pytest.skip("this machine is outside the numeric contract "
                    f"({result['numerics']['outside_because']}): its fingerprint "
                    f"{result['fingerprint']} is not comparable with the reference")
    assert result["fingerprint"] == reference["fingerprint"], (
        f"probe {result['fingerprint']} != reference {reference['fingerprint']} on "
        f"{result['machine_id']}: {first_difference(result, reference)}\n{done.stdout}")
    assert done.returncode == 0


@pytest.mark.slow
def test_verify_says_equal_and_names_the_first_different_epoch(tmp_path, monkeypatch, srtod_cli):
    """A published run of the smoke profile, re-trained by ``srtod verify``: equal to its
    published fingerprints; a published fingerprint changed: that epoch is named, exit code 1."""
    import srtod.stages.publish as publish
    from srtod.paths import PREPARED, RESULTS
    from srtod.provenance import tree_fingerprint
    from srtod.stages.params import load_params, resolve_experiment
    from srtod.stages.prepare import prepare_data
    from srtod.stages.train import train_experiment

    params = load_params(profile="smoke")
    prepare_data(params)
    train_experiment(resolve_experiment(params, "faster_rcnn"), threads=1, progress_bar=False)
    published = {"data": tree_fingerprint(PREPARED),
                 "runs": publish.trained_by(RESULTS, ["faster_rcnn"])}
    assert list(published["runs"]["faster_rcnn"]["epochs"]) == ["1"]  # smoke: 1 epoch
    (tmp_path / "smoke").mkdir()
    monkeypatch.setattr(publish, "DOCS_RESULTS", tmp_path)
    (tmp_path / "smoke" / "fingerprints.json").write_text(json.dumps(published))
    res = srtod_cli("verify", "faster_rcnn", "--profile", "smoke", "--epochs", "1")
    assert res.returncode == 0 and "EQUAL: 1 epoch(s) of faster_rcnn" in res.stdout, res.stdout
    published["runs"]["faster_rcnn"]["epochs"]["1"] = "0" * 16
    (tmp_path / "smoke" / "fingerprints.json").write_text(json.dumps(published))
    res = srtod_cli("verify", "faster_rcnn", "--profile", "smoke", "--epochs", "1")
    assert res.returncode == 1 and "DIFFERENT from epoch 1" in res.stdout, res.stdout
    res = srtod_cli("verify", "faster_rcnn", "--profile", "smoke", "--epochs", "3")
    assert res.returncode == 2 and "no published fingerprint of epoch 3" in res.stderr
