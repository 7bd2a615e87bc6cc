"""``python -m srtod <verb>``: every verb has --help, and train -> predict works as commands."""

import json
import subprocess
import sys

import pytest

from srtod.cli import COMMANDS


def _srtod(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "srtod", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_every_verb_has_help():
    top = _srtod("--help")
    assert top.returncode == 0
    for verb in COMMANDS:
        assert verb in top.stdout
        res = _srtod(verb, "--help")
        assert res.returncode == 0 and "usage: python -m srtod " + verb in res.stdout, verb


@pytest.mark.slow
def test_generate_train_predict_commands(tmp_path):
    data = tmp_path / "data"
    assert _srtod("generate", "--out", str(data), "--train", "4", "--val", "2", "--test", "2",
                  "--size", "96", "--no-progress").returncode == 0
    config = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    work = tmp_path / "work"
    res = _srtod("train", config, "--work-dir", str(work), "--data-root", str(data),
                 "--image-size", "96", "--cfg-options", "train_cfg.max_epochs=1")
    assert res.returncode == 0, res.stderr[-2000:]
    ckpt = work / "epoch_1.pth"
    assert ckpt.is_file()
    # it tells how to detect, export and measure the threshold with the checkpoint alone (it
    # carries its config, data root and input size); the threshold command runs as printed
    shown = res.stdout.split("python -m srtod threshold ", 1)[1].split("\n", 1)[0].split()
    assert shown == [str(ckpt)] and f"python -m srtod predict {ckpt} SOURCE" in res.stdout
    shown = ["threshold", *shown]
    res = _srtod(*shown, "--out", str(tmp_path / "thr"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads((tmp_path / "thr" / "threshold.json").read_text())["n_images"] == 2
    out = tmp_path / "dets.json"
    res = _srtod("predict", config, str(ckpt), "--data-root", str(data), "--image-size", "96",
                 "--out", str(out), "--evaluate")
    assert res.returncode == 0, res.stderr[-2000:]
    every = json.loads(out.read_text())
    assert isinstance(every, list) and "APvt" in res.stdout
    # --score-thr given on a split: only the detections at or above it are written
    thr = sorted(d["score"] for d in every)[len(every) // 2] if every else 0.5
    res = _srtod("predict", config, str(ckpt), "--data-root", str(data), "--image-size", "96",
                 "--out", str(out), "--score-thr", str(thr))
    kept = json.loads(out.read_text())
    assert res.returncode == 0 and len(kept) == sum(d["score"] >= thr for d in every)
    assert all(d["score"] >= thr for d in kept)
    # the same checkpoint on a folder of images (SOURCE): detections and a closing summary
    res = _srtod("predict", config, str(ckpt), str(data / "images" / "test"), "--image-size", "96",
                 "--out-dir", str(tmp_path / "folder"), "--score-thr", "0", "--no-progress")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1].startswith("2 images, ")
    assert (tmp_path / "folder" / "detections.csv").is_file()
    missing = _srtod("predict", config, str(tmp_path / "nope.pth"), "--data-root", str(data))
    assert missing.returncode == 2 and "nope.pth" in missing.stderr and not missing.stdout


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the no-GPU errors")
def test_gpu_options_without_a_gpu_say_so():
    """--device cuda and --amp on a machine without a GPU: one line on stderr, exit code 2."""
    config = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    for args in (("predict", config, "x.pth", "--device", "cuda"),
                 ("benchmark", "--device", "cuda:0"),
                 ("pipeline", "figures", "--device", "cuda")):
        res = _srtod(*args)
        assert res.returncode == 2 and "sees no CUDA GPU" in res.stderr, args
    res = _srtod("train", config, "--amp")
    assert res.returncode == 2 and "--amp needs a CUDA GPU" in res.stderr


def test_options_may_follow_or_precede_run_names():
    from srtod.cli import parse

    for argv in (["pipeline", "train", "--profile", "study", "a", "b"],
                 ["pipeline", "train", "a", "b", "--profile", "study"]):
        _, args = parse(argv)
        assert (args.stage, args.runs, args.profile) == ("train", ["a", "b"], "study")


@pytest.mark.parametrize("device, visible", [("cpu", ""), ("cuda:3", "3"), (None, "untouched")])
def test_pipeline_train_trains_on_the_device_asked_for(monkeypatch, device, visible):
    """`pipeline train --device cpu` hides the GPUs from the trainings (mmengine would take one),
    `--device cuda:N` shows them GPU N alone; without --device nothing changes."""
    import srtod.commands.pipeline as command
    import srtod.inference
    import srtod.stages.train
    from srtod.cli import parse

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "untouched")
    monkeypatch.setattr(srtod.inference, "resolve_device", lambda d: d or "cpu")
    seen = {}

    def fake_train(params, runs, workers=None, executor=None):
        seen.update(runs=runs, visible=__import__("os").environ["CUDA_VISIBLE_DEVICES"])
        return {}

    monkeypatch.setattr(srtod.stages.train, "train_experiments", fake_train)
    _, args = parse(["pipeline", "train", "faster_rcnn"] + (["--device", device] if device else []))
    assert command.run(args) == 0
    assert seen == {"runs": ["faster_rcnn"], "visible": visible}
