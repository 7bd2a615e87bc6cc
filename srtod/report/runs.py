"""What the train stage will do with each run, said before it does it: complete (nothing to
train), resumed at an epoch, or started.

A run is complete when its work dir was made by the same config and model code (the fingerprint
:func:`srtod.engine.runner.prepare_work_dir` checks) and its last checkpoint is its last epoch; a
changed config or model code starts it over (the train stage empties its work dir).
"""

from __future__ import annotations

import re

import pandas as pd

from ..paths import work_dir

COMPLETE, RESUMES, STARTS = "complete", "resumes", "starts"


def checkpoint_epoch(folder) -> int:
    """The epoch of a work dir's last checkpoint (``last_checkpoint``), 0 without one."""
    marker = folder / "last_checkpoint"
    if not marker.is_file():
        return 0
    match = re.search(r"epoch_(\d+)\.pth$", marker.read_text().strip())
    return int(match.group(1)) if match else 0


def training_status(params: dict, names: list[str]) -> pd.DataFrame:
    """Per run of ``names``: its epochs, the epoch its work dir holds, and what training it will
    do (``complete``, ``resumes`` at the next epoch, ``starts`` from scratch, the last also when
    the config or model code changed since its checkpoints were written)."""
    from ..config import config_fingerprint
    from ..engine.runner import FINGERPRINT_FILE, code_fingerprint
    from ..stages.params import experiment_config, resolve_experiment

    code = code_fingerprint()
    rows = []
    for name in names:
        cfg = experiment_config(resolve_experiment(params, name))
        folder = work_dir(name)
        stamp = folder / FINGERPRINT_FILE
        same = stamp.is_file() and stamp.read_text().strip() == config_fingerprint(cfg) + code
        epochs, done = int(cfg.train_cfg.max_epochs), checkpoint_epoch(folder) if same else 0
        state = COMPLETE if done >= epochs else RESUMES if done else STARTS
        rows.append({"run": name, "epochs": epochs, "epochs trained": done, "training": state})
    return pd.DataFrame(rows, columns=["run", "epochs", "epochs trained", "training"])
