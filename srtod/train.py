"""Train a detector with mmengine's Runner: resumable, restarted when its config changes."""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from .config import config_fingerprint

log = logging.getLogger(__name__)
FINGERPRINT_FILE = "srtod_config.sha256"


@dataclass
class TrainResult:
    work_dir: Path
    checkpoint: Path
    resumed_from: Path | None


def code_fingerprint() -> str:
    """A hash of the SR-TOD model code: a run made with other model code starts over too."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "models").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _last_checkpoint(work_dir: Path) -> Path | None:
    marker = work_dir / "last_checkpoint"
    if not marker.is_file():
        return None
    path = Path(marker.read_text().strip())
    return path if path.is_file() else None


def prepare_work_dir(cfg: Config, work_dir: Path) -> Path | None:
    """Make ``work_dir`` ready for ``cfg``: keep it (and return the checkpoint to resume from) when
    it was made by the same config and model code, otherwise empty it so training starts over."""
    fingerprint = config_fingerprint(cfg) + code_fingerprint()
    stamp = work_dir / FINGERPRINT_FILE
    if work_dir.exists() and (not stamp.is_file() or stamp.read_text().strip() != fingerprint):
        if any(work_dir.iterdir()):
            log.warning("%s holds a run of a different config: starting over", work_dir)
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return _last_checkpoint(work_dir)


def train(cfg: Config, work_dir: str | Path, *, resume: bool = True,
          progress: bool = True) -> TrainResult:
    """Train ``cfg`` in ``work_dir``.

    An interrupted run resumes from its last checkpoint when called again with the same config
    (``resume=True``); a changed config starts over. Returns the final checkpoint.
    """
    from mmengine.runner import Runner

    from .engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    work_dir = Path(work_dir).resolve()
    if not resume and work_dir.exists():
        shutil.rmtree(work_dir)
    resume_from = prepare_work_dir(cfg, work_dir)
    cfg = cfg.copy()
    cfg.work_dir = str(work_dir)
    cfg.resume = resume_from is not None
    cfg.load_from = str(resume_from) if resume_from else cfg.get("load_from")
    imports = cfg.setdefault("custom_imports", dict(imports=[], allow_failed_imports=False))
    if "srtod.engine" not in imports["imports"]:
        imports["imports"] = [*imports["imports"], "srtod.engine"]
    if progress:
        hooks = [h for h in cfg.get("custom_hooks", []) if h.get("type") != "ProgressBarHook"]
        cfg.custom_hooks = [*hooks, dict(type="ProgressBarHook")]
    # mmengine keeps one Visualizer per name per process: a unique name sends this run's scalars
    # to this work_dir even when several runs share a process (tests, notebooks).
    if cfg.get("visualizer"):
        cfg.visualizer = dict(cfg.visualizer, name=f"visualizer-{uuid.uuid4().hex[:12]}")
    if resume_from:
        log.info("resuming %s from %s", work_dir, resume_from)
    runner = Runner.from_cfg(cfg)
    runner.train()
    checkpoint = _last_checkpoint(work_dir)
    if checkpoint is None:
        raise RuntimeError(f"training in {work_dir} finished without writing a checkpoint")
    return TrainResult(work_dir=work_dir, checkpoint=checkpoint, resumed_from=resume_from)
