"""Run many trainings or evaluations side by side, one thread each, in worker processes.

Small detectors on a CPU use the cores far better as parallel one-thread runs than as one
multi-threaded run (measured: two 1-thread trainings side by side beat one 2-thread training).
Each job runs in a spawned worker process with ``OMP_NUM_THREADS=1``; its output goes to
``<log_dir>/<name>.log``. Jobs start longest first (SR-TOD runs before baselines). A failed job does
not stop the others; the call raises at the end and names every failed job and its log. Interrupted,
the trainings keep their per-epoch checkpoints, so calling again resumes them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_workers(params: dict) -> int:
    """The profile's ``workers`` (parallel one-thread jobs), else the number of cores."""
    return int(params["active"].get("workers") or os.cpu_count() or 1)


def run_logged(func: Callable, job: Any, log_file: str, threads: int, kwargs: dict) -> Any:
    """One job in a worker process, its stdout/stderr (fd level too) sent to ``log_file``."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_file, "a") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            with contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                return func(job, threads=threads, **kwargs)
        except BaseException:
            traceback.print_exc(file=f)
            raise
        finally:
            f.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)


def run_jobs(func: Callable, jobs: Mapping[str, Any], log_dir: Path,
             workers: int = 1, threads: int | None = None,
             progress: Callable[[], str] | None = None, poll_seconds: float = 15.0,
             **kwargs) -> dict:
    """``func(job, threads=..., **kwargs)`` for every job of ``{name: job}`` (a worker gets its
    job only, e.g. one resolved run, not the whole params); returns ``{name: result}``.

    A single job, or ``workers == 1``, runs in this process with ``threads`` threads (default:
    the cores divided by ``workers``). Otherwise ``workers`` spawned processes run one job each
    at a time with one thread. ``progress`` (if
    given) is called every ``poll_seconds`` and its line logged.
    """
    names = list(jobs)
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    if workers <= 1 or len(names) <= 1:
        threads = threads or max(1, (os.cpu_count() or 1) // max(1, workers))
        for name in names:
            results[name] = func(jobs[name], threads=threads, **kwargs)
        return results
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})  # inherited by the spawned workers
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(run_logged, func, jobs[name], str(log_dir / f"{name}.log"), 1,
                                   kwargs): name for name in names}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
                    for fut in done:
                        name = futures[fut]
                        try:
                            results[name] = fut.result()
                            log.info("%s: done", name)
                        except Exception as err:  # noqa: BLE001 -- reported together below
                            failed[name] = f"{type(err).__name__}: {err}"
                            log.error("%s failed: %s (log: %s)", name, err, log_dir / f"{name}.log")
                    if progress is not None and pending:
                        log.info("%s", progress())
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if failed:
        lines = "\n".join(f"  {n}: {e} (log: {log_dir / f'{n}.log'})" for n, e in failed.items())
        raise RuntimeError(f"{len(failed)} of {len(names)} jobs failed (the others finished):\n"
                           + lines)
    return {name: results[name] for name in names}


def epochs_done(work_dir: Path) -> int:
    """Epochs that ``work_dir``'s run has finished: the epoch of its last checkpoint (0 if none)."""
    marker = work_dir / "last_checkpoint"
    if not marker.is_file():
        return 0
    match = re.search(r"epoch_(\d+)\.pth$", marker.read_text().strip())
    return int(match.group(1)) if match else 0
