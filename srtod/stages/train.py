"""The train stage (notebook 02): every run of the profile, one-thread trainings side by side
(:mod:`srtod.execution.local`) or as a SLURM job array (:mod:`srtod.execution.slurm`), each
resumable (:func:`srtod.engine.runner.train`); a summary, the training curves and the validation
curve per run under ``results/train/<run>``."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.cocoio import dump_json
from ..execution import local, slurm
from ..paths import WORK_DIRS, run_dir, work_dir
from .params import Experiment, experiment_config, max_epochs, profile_runs, resolve_experiment

log = logging.getLogger(__name__)


def read_curves(work_dir: Path) -> pd.DataFrame:
    """Training curves from mmengine's ``vis_data/scalars.json`` files (resumed runs merged)."""
    rows = []
    for path in sorted(work_dir.glob("*/vis_data/scalars.json")):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    df = pd.DataFrame(rows)
    if "loss" not in df or "iter" not in df:  # no log yet, or no training row in it
        return pd.DataFrame(columns=["iter", "epoch", "loss", "loss_rec", "srtod_t", "srtod_on",
                                     "lr"])
    df = df[df["loss"].notna()]  # training rows (validation rows carry metrics, no loss)
    df = df[[c for c in df.columns if c in ("iter", "epoch", "lr", "srtod_t", "srtod_on", "acc", "time")
             or c.startswith("loss")]]
    return df.drop_duplicates("iter", keep="last").sort_values("iter").reset_index(drop=True)


def step_seconds(curves: pd.DataFrame) -> float | None:
    """Seconds the training steps of a run took over all its sittings: mmengine's logged ``time``
    (seconds per step, averaged over its window) times the steps since the previous log row.
    Start-up, validation and steps redone after an interruption are not counted."""
    if "time" not in curves or not curves["time"].notna().any():
        return None
    steps = curves["iter"].diff().fillna(curves["iter"])
    return round(float((curves["time"] * steps).sum()), 1)


def read_val_curve(work_dir: Path) -> pd.DataFrame:
    """Validation metrics logged during training (``val_interval``): epoch, iter, AP, APvt, ...

    mmengine logs validation rows with the epoch as ``step``; ``iter`` is the last training
    iteration of that epoch. Empty when the run never validated.
    """
    train_rows, val_rows = [], []
    for path in sorted(work_dir.glob("*/vis_data/scalars.json")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            (train_rows if "loss" in row else val_rows).append(row)
    val_rows = [r for r in val_rows if any(k.endswith("/AP") for k in r)]
    if not val_rows:
        return pd.DataFrame(columns=["epoch", "iter", "AP"])
    last_iter = {}
    for r in train_rows:
        last_iter[r["epoch"]] = max(last_iter.get(r["epoch"], 0), r["iter"])
    df = pd.DataFrame(val_rows)
    df = df.rename(columns={c: c.split("/", 1)[1] for c in df.columns if "/" in c})
    df["epoch"] = df.pop("step").astype(int)
    df["iter"] = df["epoch"].map(lambda e: last_iter.get(e, float("nan")))
    keep = ["epoch", "iter"] + [c for c in df.columns if c.startswith("AP")]
    return df[keep].drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)


def final_threshold(checkpoint: Path) -> float | None:
    """The DGFE threshold t stored in a checkpoint (None without DGFE)."""
    import torch

    from ..engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    state = torch.load(checkpoint, map_location="cpu")["state_dict"]
    t = state.get("srtod.dgfe.threshold.t")
    return None if t is None else float(t)


def _json_or_none(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def train_experiment(exp: Experiment, threads: int = 2, progress_bar: bool = True) -> dict:
    """Train run ``exp`` (or record why it is skipped); returns its summary.

    ``train_seconds`` is this call's time: a resumed run counts only what it trained now; a call
    on a finished run trains nothing and keeps the earlier summary's figure (None without one).
    ``step_seconds`` (:func:`step_seconds`) covers every sitting."""
    import torch

    from ..engine.hooks import ProvenanceHook
    from ..engine.runner import train

    name = exp.name
    out = run_dir("train", name)
    summary_file = out / "summary.json"
    earlier = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    if out.exists():
        shutil.rmtree(out)
    summary: dict[str, Any] = {"experiment": name, "detector": exp.detector, "config": exp.config,
                               "options": exp.options, "seed": exp.seed, "srtod": exp.srtod,
                               "profile": exp.profile, "enabled": exp.enabled}
    if not exp.enabled:
        summary["skipped"] = f"not run in profile {exp.profile!r}"
        (work_dir(name)).mkdir(parents=True, exist_ok=True)
        (work_dir(name) / "SKIPPED").write_text(summary["skipped"] + "\n")
        dump_json(summary, out / "summary.json", indent=2)
        pd.DataFrame(columns=["iter"]).to_csv(out / "curves.csv", index=False)
        return summary
    (work_dir(name) / "SKIPPED").unlink(missing_ok=True)
    cfg = experiment_config(exp)
    start = time.perf_counter()
    result = train(cfg, work_dir(name), progress=progress_bar, threads=threads)
    seconds = round(time.perf_counter() - start, 1)
    if result.resumed_from == result.checkpoint:  # finished before this call
        seconds = earlier.get("train_seconds")
    curves = read_curves(result.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    curves.to_csv(out / "curves.csv", index=False)
    read_val_curve(result.work_dir).to_csv(out / "val_curve.csv", index=False)
    summary.update(checkpoint=str(result.checkpoint.relative_to(WORK_DIRS.parent)),
                   resumed_from=str(result.resumed_from) if result.resumed_from else None,
                   train_seconds=seconds,
                   step_seconds=step_seconds(curves), threads=torch.get_num_threads(),
                   max_epochs=cfg.train_cfg.max_epochs,
                   iterations=int(curves["iter"].max()) if len(curves) else 0,
                   final_t=final_threshold(result.checkpoint),
                   provenance=_json_or_none(result.work_dir / ProvenanceHook.PROVENANCE_FILE),
                   fingerprints=_json_or_none(result.work_dir / ProvenanceHook.FINGERPRINTS_FILE))
    dump_json(summary, summary_file, indent=2)
    return summary


def train_experiments(params: dict, names: list[str] | None = None,
                      workers: int | None = None, executor: str | None = None) -> dict[str, dict]:
    """Train ``names`` (default: every run of the active profile), ``workers`` one-thread runs side
    by side (default: the profile's ``workers``, else the core count); returns the summaries.

    ``executor`` (default: ``params.yaml``'s ``train_executor``, else ``local``): ``slurm`` trains
    the runs as SLURM jobs instead and waits for them (:func:`train_on_slurm`).

    Each run resumes from its last checkpoint and is a no-op when already finished; logs go to
    ``work_dirs/logs/<name>.log``. Summaries are written as for :func:`train_experiment`.
    """
    executor = executor or params.get("train_executor") or "local"
    if executor == "slurm":
        return train_on_slurm(params, names)
    if executor != "local":
        raise ValueError(f"train_executor: {executor!r} is not 'local' or 'slurm'")
    exps = {n: resolve_experiment(params, n)
            for n in (profile_runs(params["active"]) if names is None else names)}
    total = {n: max_epochs(params, n) for n in exps}
    # longest runs first, so that the workers finish together: SR-TOD (~1.5x a baseline's step)
    # before baselines, longer schedules first
    names = sorted(exps, key=lambda n: -total[n] * (1.6 if exps[n].srtod else 1.0))
    workers = local.default_workers(params) if workers is None else workers

    def progress() -> str:
        done = {n: local.epochs_done(work_dir(n)) for n in names}
        running = ", ".join(f"{n} {done[n]}/{total[n]}" for n in names
                            if 0 < done[n] < total[n])
        return (f"epochs {sum(done.values())}/{sum(total.values())} "
                f"({sum(done[n] >= total[n] for n in names)}/{len(names)} runs done); {running}")

    log.info("training %d runs, %d side by side: %s", len(names), workers, ", ".join(names))
    start = time.perf_counter()
    summaries = local.run_jobs(train_experiment, {n: exps[n] for n in names},
                               WORK_DIRS / "logs", workers=workers, progress=progress,
                               progress_bar=workers <= 1)
    log.info("trained %d runs in %.0f s", len(names), time.perf_counter() - start)
    return summaries


def finished(name: str, total: int) -> bool:
    """Whether run ``name`` trained all its ``total`` epochs and its summary is written."""
    return (local.epochs_done(work_dir(name)) >= total
            and (run_dir("train", name) / "summary.json").is_file())


def train_on_slurm(params: dict, names: list[str] | None = None, wait: bool = True,
                   poll_seconds: float = 5.0) -> dict[str, dict]:
    """Train ``names`` (default: every run of the active profile) as SLURM jobs, one task of a job
    array per run not finished (``python -m srtod pipeline train --executor slurm``); returns
    ``{run: summary}`` of the runs finished (all of them with ``wait``, else those finished so
    far; a pending run maps to ``{"job_id": ..., "state": ..., "log": ...}``).

    Run by run: finished (last epoch checkpointed, summary written), nothing; a job of an earlier
    call still pending or running, waited for (or left with ``wait=False``); otherwise submitted
    (again), resuming from the run's last checkpoint (:mod:`srtod.execution.slurm`).

    Raises :class:`srtod.execution.slurm.SlurmError` (one line per run) when a job ended before
    its run finished; the other runs' jobs are waited for first, and nothing trained is lost (a
    later call resubmits the failed runs, which resume from their last checkpoint)."""
    settings = slurm.slurm_settings(params)
    slurm.check_cluster(settings.get("partition"))
    names = list(profile_runs(params["active"]) if names is None else names)
    exps = {n: resolve_experiment(params, n) for n in names}
    total = {n: max_epochs(params, n) for n in names}
    done = {n for n in names if not exps[n].enabled or finished(n, total[n])}
    records = slurm.submit_missing(slurm.ResumableJob(train_experiment, progress_bar=False),
                                   {n: exps[n] for n in names if n not in done}, settings,
                                   job_name="srtod-train")
    summaries: dict[str, dict] = {}
    for n in done:  # no job: a disabled run's summary says why, a finished run's is kept
        if exps[n].enabled:
            summaries[n] = json.loads((run_dir("train", n) / "summary.json").read_text())
        else:
            summaries[n] = train_experiment(exps[n], threads=1, progress_bar=False)
    results, failed = slurm.wait_for(records, wait=wait, poll_seconds=poll_seconds)
    summaries.update(results)
    if failed:
        raise slurm.SlurmError(f"{len(failed)} of {len(names)} runs failed on SLURM (the others "
                               "finished or are still queued; run again to resubmit):\n  "
                               + "\n  ".join(failed.values()))
    return {n: summaries[n] for n in names if n in summaries}
