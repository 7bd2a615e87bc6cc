"""Your own data, end to end (issue 38), with the config the README's own-data commands train (the
ImageNet-started SR-TOD): a two-class set of non-square images with one box to fix is validated,
trained for one epoch with ``--fix-data``, predicted from the checkpoint alone,
exported from the checkpoint alone, and the export predicts what ``predict`` predicts; the same
for a run trained with ``--image-size``. Each step's wall time is printed (``pytest -s``)."""

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import relabel_two_classes
from srtod.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
#: the config of the README's ``python -m srtod train CONFIG --data-root DIR`` (what users run)
CONFIG = re.search(r"python -m srtod train (\S+) --data-root DIR", README.read_text()).group(1)
CLASSES = ("drone", "bird")
H, W = 96, 128  # non-square frames


@pytest.fixture(scope="module")
def clean_data(tmp_path_factory):
    from srtod.data.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("own") / "data"
    generate_dataset(root, num_images={"train": 4, "val": 2, "test": 2}, image_size=(H, W),
                     seed=5, progress=False)
    relabel_two_classes(root)
    return root


@pytest.fixture
def dirty_data(clean_data, tmp_path):
    """The clean set with one training box partly outside its image (the validator clips it)."""
    root = tmp_path / "dirty"
    shutil.copytree(clean_data, root)
    ann_file = root / "annotations" / "train.json"
    data = json.loads(ann_file.read_text())
    x, y, w, h = data["annotations"][0]["bbox"]
    data["annotations"][0]["bbox"] = [W - w / 2, y, w, h]
    ann_file.write_text(json.dumps(data))
    return root


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_validate_leaves_a_clean_folder_untouched(clean_data, dirty_data, capsys):
    before = _files(clean_data)
    assert main(["validate", str(clean_data)]) == 0
    assert _files(clean_data) == before
    assert "nothing to fix" in capsys.readouterr().out
    assert main(["validate", str(dirty_data)]) == 0
    assert (dirty_data / "annotations" / "train.fixed.json").is_file()
    assert not (dirty_data / "annotations" / "val.fixed.json").exists()  # val is clean
    assert "--fix-data" in capsys.readouterr().out


def test_fix_data_needs_a_data_root(capsys):
    assert main(["train", CONFIG, "--fix-data"]) == 2
    assert "--fix-data" in capsys.readouterr().err


def test_positionals_checkpoint_first():
    from argparse import Namespace

    from srtod.checkpoint import is_config
    from srtod.commands.predict import checkpoint_first

    assert is_config("a/b.py") and not is_config("epoch_1.pth") and not is_config(None)
    args = Namespace(config="run/epoch_1.pth", checkpoint="frames/", source=None)
    assert checkpoint_first(args, "predict") is None
    assert (args.config, args.checkpoint, args.source) == (None, "run/epoch_1.pth", "frames/")
    args = Namespace(config="run/epoch_1.pth", checkpoint="a", source="b")
    assert "CHECKPOINT [SOURCE]" in checkpoint_first(args, "predict")
    args = Namespace(config="x.py", checkpoint="run/epoch_1.pth", source="frames/")
    assert checkpoint_first(args, "predict") is None and args.config == "x.py"
    args = Namespace(config="run/epoch_1.pth", checkpoint=None)  # export/threshold: no source
    assert checkpoint_first(args, "export") is None and args.checkpoint == "run/epoch_1.pth"


def _detections(out_dir):
    dets = json.loads((out_dir / "detections.json").read_text())
    return sorted((d["image_id"], d["category_id"], *d["bbox"], d["score"]) for d in dets)


def _same(ref, got):
    """The same detections: as many, each with a partner of the same image and class within
    0.05 px (the files round to 0.01) and 1e-3 in score."""
    assert len(ref) == len(got) > 0, (len(ref), len(got))
    a, b = np.array(ref), np.array(got)
    used = np.zeros(len(b), bool)
    for row in a:
        ok = (~used & (b[:, 0] == row[0]) & (b[:, 1] == row[1])
              & (np.abs(b[:, 2:6] - row[2:6]).max(1) <= 0.05) & (np.abs(b[:, 6] - row[6]) <= 1e-3))
        assert ok.any(), f"no exported detection matches {row}"
        used[np.flatnonzero(ok)[0]] = True


@pytest.mark.slow
@pytest.mark.parametrize("image_size", [None, 160])
def test_own_data_end_to_end(dirty_data, tmp_path, capsys, image_size):
    times = {}

    def step(name, argv, code=0):
        start = time.perf_counter()
        got = main([str(a) for a in argv])
        times[name] = round(time.perf_counter() - start, 1)
        out = capsys.readouterr()
        assert got == code, out.err[-2000:]
        return out

    step("validate --no-fix", ["validate", dirty_data, "--no-fix"], code=1)  # writes nothing
    size = ["--image-size", image_size] if image_size else []
    work = tmp_path / "run"
    train = ["train", CONFIG, "--data-root", dirty_data, *size, "--work-dir", work, "--device",
             "cpu", "--cfg-options", "train_cfg.max_epochs=1", "train_dataloader.batch_size=4"]
    err = step("train (refused)", train, code=2).err
    assert "needs fixing" in err and "--fix-data" in err and not list(work.glob("*.pth"))
    out = step("train --fix-data", [*train, "--fix-data"]).out
    ckpt = work / "epoch_1.pth"
    assert "1 fixes" in out and f"predict {ckpt}" in out
    assert (work / "data_validation" / "train.fixed.json").is_file()
    assert not (dirty_data / "annotations" / "val.fixed.json").exists()  # data folder as it was

    from srtod import Detector

    det = Detector(ckpt, device="cpu")  # the checkpoint alone
    assert det.classes == CLASSES
    scale = tuple(next(s["scale"] for s in det.cfg.test_dataloader.dataset.pipeline
                       if s["type"] == "Resize"))
    assert scale == (image_size or 128,) * 2
    assert det.provenance and "numerics" in det.provenance[-1]

    frames = dirty_data / "images" / "test"
    step("predict CKPT", ["predict", ckpt, frames, "--out-dir", tmp_path / "torch", "--score-thr",
                          0.05, "--no-vis", "--no-progress"])
    csv = (tmp_path / "torch" / "detections.csv").read_text().splitlines()
    assert {row.rsplit(",", 1)[1] for row in csv[1:]} <= set(CLASSES)
    out = step("export CKPT", ["export", ckpt, "--out", tmp_path / "export"]).out
    assert "any input size" in out
    meta = json.loads((tmp_path / "export" / "model.json").read_text())
    assert meta["classes"] == list(CLASSES) and meta["dynamic"]
    assert meta["resize"]["scale"] == [image_size or 128] * 2
    step("predict model.onnx", ["predict", tmp_path / "export" / "model.onnx", frames, "--out-dir",
                                tmp_path / "onnx", "--score-thr", 0.05, "--no-vis",
                                "--no-progress"])
    _same(_detections(tmp_path / "torch"), _detections(tmp_path / "onnx"))
    times["detections compared"] = len(_detections(tmp_path / "torch"))
    if image_size is None:  # the checkpoint's own data root and (fixed) val split
        step("threshold CKPT", ["threshold", ckpt, "--out", tmp_path / "t", "--device", "cpu"])
        summary = json.loads((tmp_path / "t" / "threshold.json").read_text())
        assert summary["split"] == "val" and summary["n_images"] == 2
    if image_size:  # a fixed graph says what it does
        out = step("export --image-size H W", ["export", ckpt, "--image-size", 128, 160, "--out",
                                               tmp_path / "fixed"]).out
        assert "fixed input 128 x 160" in out and f"to fit {image_size} x {image_size}" in out
    print(f"\ntimes (s), image_size={image_size}: {json.dumps(times)}")


@pytest.mark.slow
def test_a_checkpoint_without_settings_needs_its_config(clean_data, tmp_path, capsys):
    """An old checkpoint (no ``meta['cfg']``) is refused alone with the fix named, and runs with
    its config as before; the classes it carries count without ``--data-root``."""
    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint

    from srtod.config import load_config
    from srtod.inference import build_model

    torch.manual_seed(0)
    model = build_model(load_config(CONFIG, data_root=clean_data), None, "cpu")
    old = tmp_path / "old.pth"
    save_checkpoint(dict(state_dict=get_state_dict(model),
                         meta=dict(dataset_meta=dict(classes=CLASSES))), str(old))
    frames = clean_data / "images" / "test"
    assert main(["predict", str(old), str(frames), "--out-dir", str(tmp_path / "a")]) == 2
    assert "carries no config" in capsys.readouterr().err
    assert main(["export", str(old), "--out", str(tmp_path / "e")]) == 2
    assert "give its config as well" in capsys.readouterr().err
    assert main(["predict", CONFIG, str(old), str(frames), "--out-dir", str(tmp_path / "b"),
                 "--no-vis", "--no-progress"]) == 0
    assert json.loads((tmp_path / "b" / "images.json").read_text())["categories"] == [
        {"id": 1, "name": "drone"}, {"id": 2, "name": "bird"}]


def test_train_input_follows_the_data(tmp_path):
    """``train --data-root``: images larger than the config's input are trained at their own
    size (up to 1333 px), one line says when they are still shrunk more than 2x, and the user's
    ``--image-size`` is kept."""
    from srtod.config import _walk, fit_input_to_data, load_config

    def cfg_for(h, w, **kw):
        root = tmp_path / f"{h}x{w}"
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        images = [dict(id=i, file_name=f"{i}.jpg", height=h, width=w) for i in range(3)]
        (root / "annotations" / "train.json").write_text(json.dumps(dict(
            images=images, annotations=[], categories=[{"id": 1, "name": "drone"}])))
        return load_config(CONFIG, data_root=root, **kw)

    def scales(cfg):
        return {tuple(n["scale"]) for key in ("train_dataloader", "val_dataloader",
                                              "test_dataloader")
                for n in _walk(cfg[key]) if n.get("type") == "Resize"}

    cfg = cfg_for(H, W)
    assert fit_input_to_data(cfg) is None and scales(cfg) == {(128, 128)}  # the config's
    cfg = cfg_for(300, 500)
    assert fit_input_to_data(cfg) is None and scales(cfg) == {(500, 500)}  # the data's own
    cfg = cfg_for(3000, 4000)
    line = fit_input_to_data(cfg)
    assert scales(cfg) == {(1333, 1333)} and "shrunk 3.0x" in line and "--image-size 4000" in line
    cfg = cfg_for(300, 500, image_size=100)
    line = fit_input_to_data(cfg, 100)
    assert scales(cfg) == {(100, 100)} and "shrunk 5.0x" in line


def test_work_dir_is_in_the_current_folder(monkeypatch):
    from pathlib import Path

    from srtod.commands.train import default_work_dir
    from srtod.config import load_config
    from srtod.paths import WORK_DIRS

    cfg = load_config(CONFIG)
    assert default_work_dir(cfg) == WORK_DIRS / Path(CONFIG).stem  # SRTOD_WORKSPACE (the tests)
    monkeypatch.delenv("SRTOD_WORKSPACE")
    assert default_work_dir(cfg) == Path("work_dirs") / Path(CONFIG).stem  # the current folder
