"""Training end to end on a handful of generated images: losses fall, runs are deterministic,
interrupted runs resume, a changed config starts over, and predictions have the COCO structure."""

import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

from srtod.config import load_config
from srtod.engine.runner import train
from srtod.inference import predict_split
from srtod.stages.train import final_threshold, read_curves, read_val_curve, step_seconds

pytestmark = pytest.mark.slow
FRCNN = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
SRTOD = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from srtod.data.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("tiny")
    generate_dataset(root, num_images={"train": 8, "val": 2, "test": 2}, image_size=128, seed=0,
                     progress=False)
    return root


def _cfg(config, root, epochs, **options):
    return load_config(config, data_root=root, image_size=128, options={
        "train_cfg.max_epochs": epochs, "train_dataloader.batch_size": 4,
        "default_hooks.logger.interval": 1, "optim_wrapper.optimizer.lr": 0.002, **options})


def test_losses_fall_and_predictions_are_coco(tiny_data, tmp_path):
    # 12 iterations: a 2-iteration warm-up instead of the config's 100, so the rate peaks
    cfg = _cfg(FRCNN, tiny_data, 6, **{"train_cfg.val_interval": 3, "param_scheduler.0.end": 2})
    result = train(cfg, tmp_path / "run", progress=False)
    curves = read_curves(result.work_dir)
    losses = curves["loss"].to_numpy()
    assert len(losses) == 12 and np.isfinite(losses).all()
    assert losses[-3:].mean() < 0.8 * losses[:3].mean()
    val = read_val_curve(result.work_dir)
    assert val["epoch"].tolist() == [3, 6] and val["iter"].tolist() == [6, 12]
    assert val["AP"].between(0, 100).all() and "APvt" in val
    out = predict_split(_cfg(FRCNN, tiny_data, 6), result.checkpoint, tmp_path / "dets.json",
                        progress=False)
    dets = json.loads(out.read_text())
    gt = json.loads((tiny_data / "annotations" / "test.json").read_text())
    assert dets, "the trained detector predicts nothing"
    assert {d["image_id"] for d in dets} <= {im["id"] for im in gt["images"]}
    for d in dets:
        assert d["category_id"] == 1 and len(d["bbox"]) == 4 and 0 <= d["score"] <= 1
        assert d["bbox"][2] >= 0 and d["bbox"][3] >= 0


def test_same_seed_same_run(tiny_data, tmp_path):
    a = read_curves(train(_cfg(SRTOD, tiny_data, 1), tmp_path / "a", progress=False).work_dir)
    b = read_curves(train(_cfg(SRTOD, tiny_data, 1), tmp_path / "b", progress=False).work_dir)
    assert len(a) == len(b) == 2
    np.testing.assert_array_equal(a["loss"].to_numpy(), b["loss"].to_numpy())
    np.testing.assert_array_equal(a["loss_rec"].to_numpy(), b["loss_rec"].to_numpy())


def test_step_seconds_weights_each_logged_time_by_its_steps():
    # logged every 10 steps, then a resumed sitting that logged step 25 (window of 5 steps)
    curves = pd.DataFrame({"iter": [10, 20, 25], "time": [0.5, 0.3, 0.2], "loss": [1, 1, 1]})
    assert step_seconds(curves) == 10 * 0.5 + 10 * 0.3 + 5 * 0.2
    assert step_seconds(curves.drop(columns="time")) is None  # logs without timing


def _weights(checkpoint):
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def test_interrupted_run_resumes_and_changed_config_restarts(tiny_data, tmp_path, capfd):
    work = tmp_path / "run"
    start = time.perf_counter()
    # validation after epoch 1 draws from the generators too (the val loader's seed)
    cfg = _cfg(SRTOD, tiny_data, 2, **{"train_cfg.val_interval": 1})
    first = train(cfg, work, progress=False)
    assert first.checkpoint.name == "epoch_2.pth" and first.resumed_from is None
    uninterrupted = _weights(first.checkpoint)
    # simulate an interruption after epoch 1
    first.checkpoint.unlink()
    (work / "last_checkpoint").write_text(str(work / "epoch_1.pth"))
    again = train(cfg, work, progress=False)  # the same config object: train() left it as it was
    wall = time.perf_counter() - start
    assert again.resumed_from == work / "epoch_1.pth" and again.checkpoint.name == "epoch_2.pth"
    # the random streams continue where they stood: the resumed run is the uninterrupted one
    resumed = _weights(again.checkpoint)
    assert resumed.keys() == uninterrupted.keys()
    differ = [k for k in resumed if not torch.equal(resumed[k], uninterrupted[k])]
    assert not differ, f"{len(differ)} of {len(resumed)} tensors differ after the resume"
    curves = read_curves(work)  # both sittings: steps 1-2 from the first, 3-4 from the second
    assert curves["iter"].tolist() == [1, 2, 3, 4] and curves["time"].gt(0).all()
    assert 0 < step_seconds(curves) < wall
    # a resume without the saved state (a run from before it was kept) says it is not bitwise
    (work / "random_state_rank0.rng").unlink()
    again.checkpoint.unlink()
    (work / "last_checkpoint").write_text(str(work / "epoch_1.pth"))
    capfd.readouterr()
    train(cfg, work, progress=False)
    assert "no random state of iteration 2" in "".join(capfd.readouterr())
    changed = train(_cfg(SRTOD, tiny_data, 2, **{"optim_wrapper.optimizer.lr": 0.001,
                                                  "train_cfg.val_interval": 1}), work,
                    progress=False)
    assert changed.resumed_from is None


def test_ste_threshold_learns_and_paper_threshold_does_not(tiny_data, tmp_path):
    init = 40 / 255
    paper = train(_cfg(SRTOD, tiny_data, 3), tmp_path / "paper", progress=False)
    ste = train(_cfg(SRTOD, tiny_data, 3, **{"model.srtod.dgfe.threshold.mode": "learnable_ste",
                                             "optim_wrapper.optimizer.lr": 0.01}),
                tmp_path / "ste", progress=False)
    assert final_threshold(paper.checkpoint) == pytest.approx(init, abs=1e-7)
    assert abs(final_threshold(ste.checkpoint) - init) > 1e-4
    t_logged = read_curves(ste.work_dir)["srtod_t"].to_numpy()
    assert np.ptp(t_logged) > 0  # visible in the training log


def test_pipeline_train_of_a_finished_run_keeps_its_training_time():
    """``python -m srtod pipeline train`` again on a finished run trains nothing: its summary keeps
    the time the run took, not the seconds of the call that resumed at the last epoch."""
    import shutil

    from srtod.paths import run_dir, work_dir
    from srtod.stages.params import load_params, resolve_experiment
    from srtod.stages.prepare import prepare_data
    from srtod.stages.train import train_experiment

    params = load_params(profile="smoke")
    run = resolve_experiment(params, "faster_rcnn")
    prepare_data(params)
    for folder in (work_dir("faster_rcnn"), run_dir("train", "faster_rcnn")):
        shutil.rmtree(folder, ignore_errors=True)  # e.g. trained by the notebooks' run
    first = train_experiment(run, threads=1, progress_bar=False)
    assert first["resumed_from"] is None and first["train_seconds"] > 0
    again = train_experiment(run, threads=1, progress_bar=False)
    assert again["resumed_from"] is not None and again["checkpoint"] == first["checkpoint"]
    assert again["train_seconds"] == first["train_seconds"]
    assert again["iterations"] == first["iterations"] > 0
    assert json.loads((run_dir("train", "faster_rcnn") / "summary.json").read_text()) == again
    (run_dir("train", "faster_rcnn") / "summary.json").unlink()  # no earlier figure: unknown
    assert train_experiment(run, threads=1,
                            progress_bar=False)["train_seconds"] is None
