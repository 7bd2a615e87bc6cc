"""Train pipeline runs side by side on one GPU within a time budget, then evaluate the finished ones.

For a lent GPU machine with a hard time limit (``source scripts/gpu_env.sh`` first)::

    python benchmarks/gpu_runs.py --profile full --budget 450 --out results/gpu_runs.json \\
        --group faster_rcnn,faster_rcnn_s1,faster_rcnn_long,faster_rcnn_long_s1 \\
        --group cascade_rcnn,rfla

Every run trains in its own process (one CPU thread; all of them on the one GPU), exactly as
``python -m srtod pipeline train <run>`` would (same config, data, seed, work dir, resumable
checkpoints). ``--group`` s are in priority order. Runs side by side share the GPU, each slower the
more there are (measured on an H200: ten slim 128 px runs took over 60 s, start included, for their
first 120 steps; three ran 6.3 steps/s each; ``docs/results/gpu_check/``). Every ``--poll`` seconds each run's epochs
per second so far projects its end, and while an unfinished run is projected to end after the
budget the lowest-priority group still training is stopped (its checkpoints stay; the next call
resumes it), which frees the GPU for the rest. At the budget every run still training is stopped.
The finished runs are then evaluated on the test split (``pipeline evaluate``). The JSON written to
``--out`` records the device, and per run its state, epochs, train seconds and the epochs per second
it reached (measured since its first epoch, or since the last stop of a group).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srtod.execution.local import THREAD_VARS, epochs_done, run_logged  # noqa: E402
from srtod.paths import RESULTS, WORK_DIRS, run_dir, work_dir  # noqa: E402
from srtod.stages.evaluate import evaluate_experiments  # noqa: E402
from srtod.stages.params import load_params, max_epochs, resolve_experiment  # noqa: E402
from srtod.stages.train import train_experiment  # noqa: E402

log = logging.getLogger("gpu_runs")


def projected_end(started: float, first: tuple[float, int] | None, now: float, done: int,
                  total: int) -> float:
    """Projected end time of a run from its epochs per second since its first finished epoch
    (``first`` = (time, epochs) then); before that, from its start."""
    t0, e0 = first if first and done > first[1] else (started, 0)
    rate = (done - e0) / max(now - t0, 1e-9)
    return now + (total - done) / rate if rate > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default=None, help="profile of params.yaml")
    ap.add_argument("--group", action="append", required=True,
                    help="comma-separated runs; groups in priority order (first = kept longest)")
    ap.add_argument("--budget", type=float, required=True, help="seconds of training, all runs")
    ap.add_argument("--poll", type=float, default=15.0, help="seconds between projections")
    ap.add_argument("--eval-workers", type=int, default=8)
    ap.add_argument("--out", type=Path, default=RESULTS / "gpu_runs.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[gpu_runs %(asctime)s] %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stdout)

    params = load_params(profile=args.profile)
    groups = [[n for n in g.split(",") if n] for g in args.group]
    names = [n for g in groups for n in g]
    total = {n: max_epochs(params, n) for n in names}
    ctx = mp.get_context("spawn")
    os.environ.update({k: "1" for k in THREAD_VARS})  # inherited by the spawned runs
    start = time.perf_counter()
    deadline = start + args.budget
    procs, launched, started, first, state, rate = {}, {}, {}, {}, {}, {}
    for name in names:
        p = ctx.Process(target=run_logged, name=name, args=(
            train_experiment, resolve_experiment(params, name), str(WORK_DIRS / "logs" / f"{name}.log"), 1,
            {"progress_bar": False}))
        p.start()
        procs[name], state[name] = p, "training"
        launched[name] = started[name] = time.perf_counter()
    log.info("%d runs started on %s: %s", len(names), _device(), ", ".join(names))

    def stop(group: list[str], why: str) -> None:
        for n in group:
            if state[n] == "training":
                procs[n].kill()
                procs[n].join()
                state[n] = f"stopped ({why}) at epoch {epochs_done(work_dir(n))}/{total[n]}"
                log.info("%s: %s", n, state[n])

    while any(s == "training" for s in state.values()):
        time.sleep(min(args.poll, max(0.0, deadline - time.perf_counter())) or 0.1)
        now = time.perf_counter()
        ends = {}
        for n in names:
            if state[n] != "training":
                continue
            done = epochs_done(work_dir(n))
            if not procs[n].is_alive():
                ok = procs[n].exitcode == 0 and done >= total[n]
                state[n] = "finished" if ok else f"failed (exit {procs[n].exitcode}, log " \
                    f"{WORK_DIRS / 'logs' / (n + '.log')})"
                log.info("%s: %s in %.0f s", n, state[n], now - launched[n])
                continue
            if done and n not in first:
                first[n] = (now, done)
            elif n in first and done > first[n][1]:
                rate[n] = (done - first[n][1]) / (now - first[n][0])
            ends[n] = projected_end(started[n], first.get(n), now, done, total[n])
        if now >= deadline:
            stop(names, "budget spent")
            break
        late = [n for n, e in ends.items() if e > deadline and n in first]
        alive = [g for g in groups if any(state[n] == "training" for n in g)]
        if late and len(alive) > 1:
            stop(alive[-1], f"projected past the budget: {', '.join(late)}")
            for n in names:  # rates change once the GPU is freed: measure afresh
                first.pop(n, None)
                started[n] = time.perf_counter()
                if state[n] == "training" and epochs_done(work_dir(n)):
                    first[n] = (started[n], epochs_done(work_dir(n)))
        log.info("epochs: %s", ", ".join(f"{n} {epochs_done(work_dir(n))}/{total[n]}"
                                          for n in names if state[n] == "training"))
    train_s = time.perf_counter() - start
    finished = [n for n in names if state[n] == "finished"]
    log.info("training: %d of %d runs finished in %.0f s", len(finished), len(names), train_s)
    eval_s = None
    if finished:
        t = time.perf_counter()
        evaluate_experiments(params, finished, workers=min(args.eval_workers, len(finished)))
        eval_s = round(time.perf_counter() - t, 1)
        log.info("evaluated %d runs in %.0f s", len(finished), eval_s)
    runs = {}
    for n in names:
        summary = run_dir("train", n) / "summary.json"
        s = json.loads(summary.read_text()) if n in finished and summary.is_file() else {}
        runs[n] = dict(state=state[n], epochs=epochs_done(work_dir(n)), max_epochs=total[n],
                       train_seconds=s.get("train_seconds"), iterations=s.get("iterations"),
                       epochs_per_second=round(rate[n], 4) if n in rate else None)
        if s.get("train_seconds"):
            runs[n]["iterations_per_second"] = round(s["iterations"] / s["train_seconds"], 2)
    record = dict(device=_device(), python=platform.python_version(), torch=torch.__version__,
                  profile=params["profile"], budget_s=args.budget, side_by_side=len(names),
                  train_wall_s=round(train_s, 1), eval_wall_s=eval_s, runs=runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    log.info("wrote %s", args.out)
    return 0 if finished else 1


def _device() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda}), {mp.cpu_count()} cores"
    return f"CPU ({mp.cpu_count()} cores)"


if __name__ == "__main__":
    sys.exit(main())
