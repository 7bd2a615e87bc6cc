"""Train a detector with mmengine's Runner: resumable, restarted when its config changes."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from ..config import config_fingerprint

log = logging.getLogger(__name__)
FINGERPRINT_FILE = "srtod_config.sha256"


@dataclass
class TrainResult:
    work_dir: Path
    checkpoint: Path
    resumed_from: Path | None


def code_fingerprint() -> str:
    """A hash of the model code (SR-TOD's modules, the label-assignment parts): a run made with
    other model code starts over too."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for path in sorted([*(package / "models").glob("*.py"),
                        *(package / "task_modules").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _last_checkpoint(work_dir: Path) -> Path | None:
    marker = work_dir / "last_checkpoint"
    if not marker.is_file():
        return None
    path = Path(marker.read_text().strip())
    return path if path.is_file() else None


def enable_amp(cfg: Config) -> None:
    """Mixed-precision training, as mmdet's ``tools/train.py --amp``: mmengine's
    ``AmpOptimWrapper`` with a dynamic loss scale. It needs a CUDA GPU."""
    import torch

    if not torch.cuda.is_available():
        raise ValueError("--amp needs a CUDA GPU (mmengine's AmpOptimWrapper); "
                         "this machine has none: train without --amp")
    wrapper = cfg.optim_wrapper
    if wrapper.get("type", "OptimWrapper") not in ("OptimWrapper", "AmpOptimWrapper"):
        raise ValueError(f"--amp: optim_wrapper type {wrapper['type']!r} is not OptimWrapper")
    wrapper.type = "AmpOptimWrapper"
    wrapper.setdefault("loss_scale", "dynamic")


def set_distributed(cfg: Config) -> None:
    """Multi-process settings that depend on the machine, not the experiment: NCCL between GPU
    processes and gloo where there is no GPU (CPU runs, the tests); and, for a launched run whose
    config names no ``model_wrapper_cfg``, mmengine's DDP wrapper without ``device_ids`` (which
    CPU modules refuse) and with ``find_unused_parameters`` for SR-TOD models, whose paper-mode
    threshold t never receives a gradient (DDP would otherwise wait for it and fail)."""
    import torch

    dist_cfg = cfg.setdefault("env_cfg", {}).setdefault("dist_cfg", {})
    dist_cfg["backend"] = "nccl" if torch.cuda.is_available() else "gloo"
    if cfg.get("launcher", "none") != "none" and not cfg.get("model_wrapper_cfg"):
        unused = cfg.get("find_unused_parameters", cfg.model.get("type") == "SRTOD")
        cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", broadcast_buffers=False,
                                     find_unused_parameters=unused)
        if not torch.cuda.is_available():
            cfg.model_wrapper_cfg["device_ids"] = None  # mmengine's default [LOCAL_RANK]: GPUs
    if cfg.get("launcher") == "pytorch" and not torch.cuda.is_available():
        import torch.distributed as dist

        # mmengine's pytorch launcher calls torch.cuda.set_device; on CPUs join the group here
        # (torchrun's environment), and mmengine uses it as it is.
        if not dist.is_initialized():
            dist.init_process_group(backend="gloo")
    if cfg.get("launcher") == "slurm" and not torch.cuda.is_available():
        init_slurm_cpu_group()


def init_slurm_cpu_group() -> None:
    """Join the gloo group of an ``srun``-launched CPU run (one process per task): mmengine's
    slurm launcher picks a GPU per task (``torch.cuda.set_device``), so on CPUs the group is set
    up here from SLURM's variables as mmengine would (the first node of the job is the master,
    ``MASTER_PORT`` else 29500) and mmengine uses it as it is."""
    import os
    import subprocess

    import torch.distributed as dist

    if dist.is_initialized():
        return
    env = os.environ
    if "MASTER_ADDR" not in env:
        nodes = subprocess.run(["scontrol", "show", "hostnames", env["SLURM_NODELIST"]],
                               capture_output=True, text=True, check=True).stdout.split()
        env["MASTER_ADDR"] = nodes[0]
    env.setdefault("MASTER_PORT", "29500")
    env["WORLD_SIZE"] = env["SLURM_NTASKS"]
    env["RANK"] = env["SLURM_PROCID"]
    env["LOCAL_RANK"] = env.get("SLURM_LOCALID", "0")
    dist.init_process_group(backend="gloo")


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
    if not stamp.is_file() or stamp.read_text().strip() != fingerprint:
        # atomically: the processes of a launched run (srun -n2) read it while another writes
        tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(fingerprint + "\n")
        tmp.replace(stamp)
    return _last_checkpoint(work_dir)


def train(cfg: Config, work_dir: str | Path, *, resume: bool = True,
          progress: bool = True, threads: int | None = None,
          stop_after_epochs: int | None = None, hooks: list | None = None) -> TrainResult:
    """Train ``cfg`` in ``work_dir`` under the numeric contract (:mod:`srtod.numerics`: one
    thread; ``threads`` counts only with ``SRTOD_NUMERICS=native``).

    An interrupted run resumes from its last checkpoint when called again with the same config
    (``resume=True``); a changed config starts over. ``stop_after_epochs`` ends it after that
    many epochs of its schedule; ``hooks`` are hook objects registered on the runner (the
    determinism probe's). Each sitting's provenance goes into the work dir and the
    checkpoints, the weights' fingerprint after each epoch into ``fingerprints.json``
    (:class:`srtod.engine.hooks.ProvenanceHook`). Returns the final checkpoint.
    """
    from mmengine.runner import Runner

    from ..checks import check_config
    from ..numerics import enter_run
    from . import allow_mmengine_checkpoints

    enter_run(threads)
    check_config(cfg)
    allow_mmengine_checkpoints()
    work_dir = Path(work_dir).resolve()
    if not resume and work_dir.exists():
        shutil.rmtree(work_dir)
    resume_from = prepare_work_dir(cfg, work_dir)
    cfg = copy.deepcopy(cfg)  # the caller's config stays as it was: called again, it resumes
    set_distributed(cfg)
    cfg.work_dir = str(work_dir)
    cfg.resume = resume_from is not None
    cfg.load_from = str(resume_from) if resume_from else cfg.get("load_from")
    imports = cfg.setdefault("custom_imports", dict(imports=[], allow_failed_imports=False))
    if "srtod.engine" not in imports["imports"]:
        imports["imports"] = [*imports["imports"], "srtod.engine"]
    # how this machine runs the config, not what it trains (outside the fingerprint, as the
    # distributed settings): channels-last convolutions on the CPU, the random state kept for a
    # resume, what made the run, a progress bar
    ours = ("ProgressBarHook", "ChannelsLastHook", "RandomStateHook", "ProvenanceHook",
            "StopAfterEpochsHook")
    theirs = [h for h in cfg.get("custom_hooks", []) if h.get("type") not in ours]
    cfg.custom_hooks = [*theirs, dict(type="ChannelsLastHook"), dict(type="RandomStateHook"),
                        dict(type="ProvenanceHook"),
                        *([dict(type="StopAfterEpochsHook", epochs=stop_after_epochs)]
                          if stop_after_epochs else []),
                        *([dict(type="ProgressBarHook")] if progress else [])]
    # mmengine keeps one Visualizer per name per process: a unique name sends this run's scalars
    # to this work_dir even when several runs share a process (tests, notebooks).
    if cfg.get("visualizer"):
        cfg.visualizer = dict(cfg.visualizer, name=f"visualizer-{uuid.uuid4().hex[:12]}")
    if resume_from:
        log.info("resuming %s from %s", work_dir, resume_from)
    runner = Runner.from_cfg(cfg)
    for hook in hooks or []:
        runner.register_hook(hook)
    runner.train()
    checkpoint = _last_checkpoint(work_dir)
    if stop_after_epochs and checkpoint is None:
        return TrainResult(work_dir=work_dir, checkpoint=None, resumed_from=resume_from)
    if checkpoint is None:
        raise RuntimeError(f"training in {work_dir} finished without writing a checkpoint")
    return TrainResult(work_dir=work_dir, checkpoint=checkpoint, resumed_from=resume_from)
