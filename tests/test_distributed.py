"""Multi-process training as a cluster user launches it, on the CPU: two processes (gloo) train
the SR-TOD smoke config to one checkpoint, and a second launch resumes from it."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
CONFIG = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"


def _launch(data, work_dir, port):
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(port), "-m", "srtod", "train", CONFIG, "--launcher", "pytorch",
           "--data-root", str(data), "--image-size", "64", "--work-dir", str(work_dir),
           "--cfg-options", "train_cfg.max_epochs=1", "train_dataloader.batch_size=2",
           "default_hooks.logger.interval=1"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_torchrun_two_processes_train_and_resume(tmp_path):
    from srtod.data.synthetic import generate_dataset

    data = tmp_path / "data"
    generate_dataset(data, num_images={"train": 8, "val": 2, "test": 2}, image_size=64, seed=0,
                     progress=False)
    work = tmp_path / "run"
    log = _launch(data, work, 29511)
    assert "Distributed launcher: pytorch" in log and "Distributed training: True" in log
    # 8 images, 2 processes x batch 2: 2 iterations per epoch, one checkpoint
    assert sorted(p.name for p in work.glob("*.pth")) == ["epoch_1.pth"]
    # each process keeps its own random state for a resume
    assert sorted(p.name for p in work.glob("random_state_*")) == ["random_state_rank0.rng",
                                                                  "random_state_rank1.rng"]
    assert "Epoch(train) [1][2/2]" in log
    stamp = (work / "epoch_1.pth").stat().st_mtime_ns
    log = _launch(data, work, 29512)
    assert "Load checkpoint from" in log and "resumed epoch: 1, iter: 2" in log
    assert "Epoch(train)" not in log  # nothing left to train: the finished run was resumed
    assert (work / "epoch_1.pth").stat().st_mtime_ns == stamp
