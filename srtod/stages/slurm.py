"""The train stage's runs as SLURM jobs (``python -m srtod pipeline train --executor slurm``).

Each run of the profile that is not finished becomes one task of a SLURM job array, submitted with
submitit (the library detectron2 and d2go use); the job trains the run with
:func:`srtod.stages.train.train_experiment`, which resumes from the run's last epoch checkpoint and
is a no-op on a finished run. The resources of a job come from ``params.yaml``'s ``slurm:``
section, overridden key by key by the profile's own ``slurm:`` (:func:`slurm_settings`).

What a call does, run by run:

* finished (its last epoch checkpointed and its summary written): nothing, no job;
* a job of an earlier call still pending or running (``work_dirs/slurm/runs/<run>.json``): waits
  for it (or leaves it with ``wait=False``);
* otherwise (never submitted, or its job failed, was cancelled, pre-empted or timed out before
  the run finished): submitted (again); the new job resumes from the last checkpoint.

A job that reaches its time limit or is pre-empted is requeued by submitit (the
:class:`TrainJob` checkpoint) and resumes the same way. Job logs: ``work_dirs/slurm/<job id>_*``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from ..paths import WORK_DIRS, run_dir, work_dir
from .params import Experiment, max_epochs, profile_runs, resolve_experiment

log = logging.getLogger(__name__)

# the settings of params.yaml's `slurm:` and what each becomes (submitit's SlurmExecutor names)
DEFAULTS: dict[str, Any] = {"partition": None, "cpus_per_task": 1, "gpus_per_node": 0,
                            "mem_gb": 4, "timeout_min": 60, "array_parallelism": 64}
ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SUSPENDED", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"}


class SlurmError(RuntimeError):
    """The cluster cannot take the runs, or a job ended before its run finished."""


def slurm_settings(params: dict) -> dict[str, Any]:
    """The job resources of the active profile: :data:`DEFAULTS`, then ``params.yaml``'s
    ``slurm:``, then the profile's ``slurm:`` (each overriding key by key)."""
    merged = dict(DEFAULTS)
    for layer in (params.get("slurm") or {}, (params.get("active") or {}).get("slurm") or {}):
        unknown = set(layer) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"params.yaml slurm: unknown keys {sorted(unknown)} "
                             f"(known: {sorted(DEFAULTS)})")
        merged.update(layer)
    return merged


def check_cluster(partition: str | None) -> None:
    """One clear line when SLURM's commands are missing or ``partition`` is not the cluster's."""
    if shutil.which("sbatch") is None:
        raise SlurmError("sbatch not found: SLURM's client commands are not installed here "
                         "(apt-get install slurm-client, or train with --executor local)")
    if partition is None:
        return
    out = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SlurmError(f"sinfo failed, is the cluster reachable? {out.stderr.strip()}")
    known = sorted(set(out.stdout.split()))
    if partition not in known:
        raise SlurmError(f"unknown SLURM partition {partition!r} (this cluster has: "
                         f"{', '.join(known)}; params.yaml slurm.partition)")


class TrainJob:
    """What a SLURM job runs: one run, resumably. submitit calls :meth:`checkpoint` when the job
    reaches its time limit or is pre-empted, and requeues it: the run resumes from its last epoch
    checkpoint (the random-state hook makes that bitwise equal to an uninterrupted run)."""

    def __call__(self, exp: Experiment) -> dict:
        from .train import train_experiment

        threads = int(os.environ.get("SLURM_CPUS_PER_TASK") or 1)
        return train_experiment(exp, threads=threads, progress_bar=False)

    def checkpoint(self, exp: Experiment):
        import submitit

        return submitit.helpers.DelayedSubmission(TrainJob(), exp)


def job_folder() -> Path:
    """Where submitit keeps the jobs' pickles and logs (``%j``: the job id)."""
    return WORK_DIRS / "slurm" / "%j"


def expand_job_ids(jid: str) -> list[str]:
    """SLURM's name of one job or of array tasks listed together: ``12``, ``12_3``,
    ``12_[0-2,5%4]`` (pending tasks) -> ``["12_0", "12_1", "12_2", "12_5"]``."""
    if "_[" not in jid:
        return [jid]
    base, spec = jid.split("_[", 1)
    ids = []
    for part in spec.rstrip("]").split("%")[0].split(","):
        lo, _, hi = part.partition("-")
        ids += [f"{base}_{k}" for k in range(int(lo), int(hi or lo) + 1)]
    return ids


def job_states(job_ids: list[str]) -> dict[str, str]:
    """SLURM's state of each job (``123`` or ``123_4``); a job SLURM no longer knows is absent.
    Asks ``sacct`` (finished jobs too, where the cluster keeps accounting), else ``squeue``."""
    if not job_ids:
        return {}
    states: dict[str, str] = {}

    def read(lines: str) -> None:
        for line in lines.splitlines():
            if "|" in line:
                jid, state = line.split("|", 1)
                for j in expand_job_ids(jid.strip()):
                    states[j] = state.split()[0] if state.strip() else "UNKNOWN"

    base = sorted({j.split("_")[0] for j in job_ids})
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(base)],
                         capture_output=True, text=True)
    if out.returncode == 0:
        read(out.stdout)
    missing = [j for j in base if not any(k.split("_")[0] == j for k in states)]
    if missing:  # no accounting here: squeue knows the jobs of the last minutes (MinJobAge)
        out = subprocess.run(["squeue", "-h", "-r", "--states=all", "-o", "%i|%T", "-j",
                              ",".join(missing)], capture_output=True, text=True)
        read(out.stdout)
    return {j: states[j] for j in job_ids if j in states}


def finished(name: str, total: int) -> bool:
    """Whether run ``name`` trained all its ``total`` epochs and its summary is written."""
    from .parallel import epochs_done

    return (epochs_done(work_dir(name)) >= total
            and (run_dir("train", name) / "summary.json").is_file())


def record_path(name: str) -> Path:
    """The job of run ``name``'s last submission (outside its work dir, which a fresh start
    clears)."""
    return WORK_DIRS / "slurm" / "runs" / f"{name}.json"


def read_record(name: str) -> dict | None:
    path = record_path(name)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def job_result(record: dict) -> tuple[str, Any]:
    """``("done", summary)``, ``("error", traceback)`` or ``("none", None)`` (no result yet) of the
    job of ``record``, from the result file submitit writes at the job's end."""
    import pickle

    path = Path(record["folder"]) / f"{record['job_id']}_{record.get('task', 0)}_result.pkl"
    if not path.is_file():
        return "none", None
    with open(path, "rb") as f:
        outcome, value = pickle.load(f)
    return ("done", value) if outcome == "success" else ("error", value)


def submit(exps: dict[str, Experiment], settings: dict[str, Any]) -> dict[str, dict]:
    """One job array for ``exps`` (``{name: run}``); records each run's job (:func:`record_path`)."""
    import submitit

    folder = job_folder()
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=3)
    params: dict[str, Any] = dict(cpus_per_task=int(settings["cpus_per_task"]),
                                  time=int(settings["timeout_min"]),
                                  mem=f"{int(float(settings['mem_gb']) * 1024)}M",
                                  array_parallelism=int(settings["array_parallelism"]),
                                  job_name="srtod-train", ntasks_per_node=1, nodes=1)
    if settings.get("partition"):
        params["partition"] = settings["partition"]
    if int(settings.get("gpus_per_node") or 0):
        params["gpus_per_node"] = int(settings["gpus_per_node"])
    executor.update_parameters(**params)
    names = list(exps)
    try:
        with executor.batch():
            jobs = [executor.submit(TrainJob(), exps[n]) for n in names]
    except submitit.core.utils.FailedJobError as err:  # sbatch refused: resources, account, ...
        why = [x for x in str(err).splitlines() if "error" in x.lower()] or [str(err)]
        raise SlurmError(f"sbatch refused the jobs of {', '.join(names)}: {why[-1].strip()} "
                         "(params.yaml slurm:)") from None
    records = {}
    for name, job in zip(names, jobs, strict=True):
        record = {"job_id": job.job_id, "task": 0, "folder": str(job.paths.folder),
                  "log": str(job.paths.stderr), "submitted": time.strftime("%Y-%m-%dT%H:%M:%S")}
        record_path(name).parent.mkdir(parents=True, exist_ok=True)
        record_path(name).write_text(json.dumps(record, indent=2) + "\n")
        records[name] = record
    log.info("submitted %d runs as SLURM job array %s: %s", len(names),
             jobs[0].job_id.split("_")[0] if jobs else "-", ", ".join(names))
    return records


def train_on_slurm(params: dict, names: list[str] | None = None, wait: bool = True,
                   poll_seconds: float = 5.0) -> dict[str, dict]:
    """Train ``names`` (default: every run of the active profile) as SLURM jobs (see the module's
    docstring); returns ``{run: summary}`` of the runs finished (all of them with ``wait``, else
    those finished so far; a pending run maps to ``{"job_id": ..., "state": ...}``).

    Raises :class:`SlurmError` (one line per run) when a job ended before its run finished; the
    other runs' jobs are waited for first, and nothing trained is lost (a later call resubmits the
    failed runs, which resume from their last checkpoint)."""
    settings = slurm_settings(params)
    check_cluster(settings.get("partition"))
    names = list(profile_runs(params["active"]) if names is None else names)
    exps = {n: resolve_experiment(params, n) for n in names}
    total = {n: max_epochs(params, n) for n in names}
    done = {n for n in names if not exps[n].enabled or finished(n, total[n])}
    records = {n: r for n in names if n not in done and (r := read_record(n))}
    states = job_states([r["job_id"] for r in records.values()])
    active = {n for n, r in records.items() if states.get(r["job_id"]) in ACTIVE}
    for n in sorted(set(records) - active):
        log.info("%s: job %s %s before the run finished; submitting it again (log: %s)", n,
                 records[n]["job_id"], states.get(records[n]["job_id"], "ended"),
                 records[n]["log"])
    todo = {n: exps[n] for n in names if n not in done and n not in active}
    if todo:
        records.update(submit(todo, settings))
    summaries: dict[str, dict] = {}
    for n in done:  # no job: a disabled run's summary says why, a finished run's is kept
        if exps[n].enabled:
            summaries[n] = json.loads((run_dir("train", n) / "summary.json").read_text())
        else:
            from .train import train_experiment

            summaries[n] = train_experiment(exps[n], threads=1, progress_bar=False)
    pending = {n: records[n] for n in names if n not in done}
    failed: dict[str, str] = {}
    unknown: dict[str, int] = {}  # polls in a row SLURM did not know a job without a result
    while pending:
        states = job_states([r["job_id"] for r in pending.values()])
        for n, r in list(pending.items()):
            outcome, value = job_result(r)
            state = states.get(r["job_id"])
            if outcome == "none" and state in ACTIVE:
                continue
            if outcome == "none" and state == "COMPLETED":  # result file not yet visible
                time.sleep(1.0)
                outcome, value = job_result(r)
            if outcome == "done":
                summaries[n] = value
                log.info("%s: done (job %s)", n, r["job_id"])
            elif state is None and outcome == "none" and unknown.get(n, 0) < 3:
                unknown[n] = unknown.get(n, 0) + 1  # squeue may miss a job for a moment
                continue
            else:
                why = (value.strip().splitlines()[-1] if outcome == "error" and value
                       else f"job {state or 'ended'} without a result")
                failed[n] = (f"{n}: SLURM job {r['job_id']} failed: {why} (log: {r['log']})")
                log.error("%s", failed[n])
            del pending[n]
        if not wait or not pending:
            break
        time.sleep(poll_seconds)
    for n, r in pending.items():
        summaries[n] = {"job_id": r["job_id"], "state": states.get(r["job_id"], "UNKNOWN"),
                        "log": r["log"]}
    if failed:
        raise SlurmError(f"{len(failed)} of {len(names)} runs failed on SLURM (the others "
                         "finished or are still queued; run again to resubmit):\n  "
                         + "\n  ".join(failed.values()))
    return {n: summaries[n] for n in names if n in summaries}
