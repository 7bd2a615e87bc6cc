"""Runs as a SLURM job array, submitted with submitit (the library detectron2 and d2go use): what
the train stage's ``--executor slurm`` runs on (:func:`srtod.stages.train.train_on_slurm`).

A job is one run: a function of it (``func(run, threads=..., **kwargs)``) that resumes where an
earlier job of the run stopped. Each submission is recorded (``work_dirs/slurm/runs/<run>.json``),
so a later call finds the job of an earlier one (:func:`submit_missing`): still pending or
running, it is waited for (:func:`wait_for`); failed, cancelled, pre-empted or timed out, the run
is submitted again. A job that reaches its time limit or is pre-empted is requeued by submitit
(:meth:`ResumableJob.checkpoint`) and resumes the same way. The resources of a job come from
``params.yaml``'s ``slurm:`` section, overridden key by key by the profile's own ``slurm:``
(:func:`slurm_settings`). Job logs: ``work_dirs/slurm/<job id>_*``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import WORK_DIRS

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


class ResumableJob:
    """What a SLURM job runs: ``func(job, threads=<the job's CPUs>, **kwargs)``, for a ``func``
    that resumes a run from its last checkpoint. submitit calls :meth:`checkpoint` when the job
    reaches its time limit or is pre-empted, and requeues it: the run resumes from its last epoch
    checkpoint (the random-state hook makes that bitwise equal to an uninterrupted run)."""

    def __init__(self, func: Callable, **kwargs) -> None:
        self.func, self.kwargs = func, kwargs

    def __call__(self, job: Any) -> Any:
        threads = int(os.environ.get("SLURM_CPUS_PER_TASK") or 1)
        return self.func(job, threads=threads, **self.kwargs)

    def checkpoint(self, job: Any):
        import submitit

        return submitit.helpers.DelayedSubmission(ResumableJob(self.func, **self.kwargs), job)


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


def submit(job: ResumableJob, runs: dict[str, Any], settings: dict[str, Any],
           job_name: str) -> dict[str, dict]:
    """One job array running ``job`` on each of ``runs`` (``{name: run}``), named ``job_name``;
    records each run's job (:func:`record_path`)."""
    import submitit

    folder = job_folder()
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=3)
    params: dict[str, Any] = dict(cpus_per_task=int(settings["cpus_per_task"]),
                                  time=int(settings["timeout_min"]),
                                  mem=f"{int(float(settings['mem_gb']) * 1024)}M",
                                  array_parallelism=int(settings["array_parallelism"]),
                                  job_name=job_name, ntasks_per_node=1, nodes=1)
    if settings.get("partition"):
        params["partition"] = settings["partition"]
    if int(settings.get("gpus_per_node") or 0):
        params["gpus_per_node"] = int(settings["gpus_per_node"])
    executor.update_parameters(**params)
    names = list(runs)
    try:
        with executor.batch():
            jobs = [executor.submit(job, runs[n]) for n in names]
    except submitit.core.utils.FailedJobError as err:  # sbatch refused: resources, account, ...
        why = [x for x in str(err).splitlines() if "error" in x.lower()] or [str(err)]
        raise SlurmError(f"sbatch refused the jobs of {', '.join(names)}: {why[-1].strip()} "
                         "(params.yaml slurm:)") from None
    records = {}
    for name, submitted in zip(names, jobs, strict=True):
        record = {"job_id": submitted.job_id, "task": 0, "folder": str(submitted.paths.folder),
                  "log": str(submitted.paths.stderr),
                  "submitted": time.strftime("%Y-%m-%dT%H:%M:%S")}
        record_path(name).parent.mkdir(parents=True, exist_ok=True)
        record_path(name).write_text(json.dumps(record, indent=2) + "\n")
        records[name] = record
    log.info("submitted %d runs as SLURM job array %s: %s", len(names),
             jobs[0].job_id.split("_")[0] if jobs else "-", ", ".join(names))
    return records


def submit_missing(job: ResumableJob, runs: dict[str, Any], settings: dict[str, Any],
                   job_name: str) -> dict[str, dict]:
    """The job record of each of ``runs`` (``{name: run}``, none of them finished): the job of an
    earlier call while it is pending or running, else a new submission (one job array for all
    the runs never submitted or whose job ended before the run finished)."""
    records = {n: r for n in runs if (r := read_record(n))}
    states = job_states([r["job_id"] for r in records.values()])
    active = {n for n, r in records.items() if states.get(r["job_id"]) in ACTIVE}
    for n in sorted(set(records) - active):
        log.info("%s: job %s %s before the run finished; submitting it again (log: %s)", n,
                 records[n]["job_id"], states.get(records[n]["job_id"], "ended"),
                 records[n]["log"])
    todo = {n: run for n, run in runs.items() if n not in active}
    if todo:
        records.update(submit(job, todo, settings, job_name))
    return {n: records[n] for n in runs}


def wait_for(records: dict[str, dict], wait: bool = True, poll_seconds: float = 5.0
             ) -> tuple[dict[str, Any], dict[str, str]]:
    """The results of the jobs of ``records`` (``{run: job record}``) and one line per run whose
    job ended without one (``{run: why, with the job's log}``). With ``wait``, until every job has
    ended; else those ended so far, a pending run mapping to ``{"job_id", "state", "log"}``."""
    results: dict[str, Any] = {}
    pending = dict(records)
    states: dict[str, str] = {}
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
                results[n] = value
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
        results[n] = {"job_id": r["job_id"], "state": states.get(r["job_id"], "UNKNOWN"),
                      "log": r["log"]}
    return results, failed
