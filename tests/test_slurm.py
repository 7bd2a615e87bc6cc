"""The train stage's runs on a real SLURM: a one-node cluster started on this machine for the module
(``scripts/slurm_local.sh``: munged, slurmctld and slurmd in a temporary folder, stopped at the end;
``scripts/install_slurm.sh`` installs them, ``make test`` runs it). Without SLURM the tests skip and
say why.

The runs are the ``smoke`` profile's (8 images, seconds per epoch) in the test session's workspace.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "scancel")


def which(exe: str) -> str | None:
    return shutil.which(exe) or (f"/usr/sbin/{exe}" if os.access(f"/usr/sbin/{exe}", os.X_OK)
                                 else None)


def free_port_pair() -> int:
    """A port p with p and p + 1 free (slurmctld, slurmd)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        if port < 65000:
            try:
                with socket.socket() as s:
                    s.bind(("", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running one-node cluster; ``SLURM_CONF`` points at it while the module's tests run."""
    missing = [exe for exe in DAEMONS if which(exe) is None]
    if missing:
        pytest.skip(f"SLURM not installed ({', '.join(missing)} missing; "
                    "bash scripts/install_slurm.sh installs it as root)")
    folder = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ, SRTOD_SLURM_PORT=str(free_port_pair()))
    # the daemons, and so the jobs, run niced: a test does not slow other work on the machine
    start = subprocess.run(["nice", "-n", "10", "bash", str(REPO / "scripts/slurm_local.sh"),
                            "start", str(folder)], env=env, capture_output=True, text=True)
    if start.returncode != 0:
        pytest.skip(f"SLURM is installed but the test cluster did not start: "
                    f"{start.stderr.strip()[-2000:]}")
    saved = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(folder / "slurm.conf")
    try:
        yield folder
    finally:
        subprocess.run(["bash", str(REPO / "scripts/slurm_local.sh"), "stop", str(folder)],
                       check=False)
        if saved is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = saved


@pytest.fixture(scope="module")
def smoke(cluster):
    """The smoke profile's params, its data prepared in the session's workspace."""
    from srtod.stages.params import load_params
    from srtod.stages.prepare import prepare_data

    params = load_params(profile="smoke")
    prepare_data(params)
    return params


def fresh(*runs: str) -> None:
    """Forget ``runs``: work dirs, train results, SLURM job records (e.g. of another test)."""
    from srtod.execution.slurm import record_path
    from srtod.paths import run_dir, work_dir

    for run in runs:
        shutil.rmtree(work_dir(run), ignore_errors=True)
        shutil.rmtree(run_dir("train", run), ignore_errors=True)
        record_path(run).unlink(missing_ok=True)


def weights(summary: dict) -> dict[str, torch.Tensor]:
    from srtod.engine import allow_mmengine_checkpoints
    from srtod.paths import WORK_DIRS

    allow_mmengine_checkpoints()
    return torch.load(WORK_DIRS.parent / summary["checkpoint"], map_location="cpu")["state_dict"]


def assert_bitwise_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    unequal = [k for k in a if not torch.equal(a[k], b[k])]
    assert not unequal, f"{len(unequal)} tensors differ, e.g. {unequal[:3]}"


def jobs_submitted() -> int:
    from srtod.paths import WORK_DIRS

    return len(list((WORK_DIRS / "slurm" / "runs").glob("*.json")))


@pytest.mark.slow
def test_smoke_runs_as_a_job_array_equal_a_local_run(smoke):
    """Two smoke runs as one job array, one task at a time, finish; a second call submits nothing;
    the weights equal those of the same runs trained here (one thread, as the jobs:
    cpus_per_task 1)."""
    from srtod.execution.slurm import job_states, read_record
    from srtod.paths import run_dir
    from srtod.stages.params import resolve_experiment
    from srtod.stages.train import train_experiment, train_on_slurm

    runs = ["faster_rcnn", "faster_rcnn_s1"]
    fresh(*runs)
    # one task of the array at a time: the second waits as a pending task ("12_[1]" to squeue)
    smoke = {**smoke, "slurm": {**(smoke.get("slurm") or {}), "array_parallelism": 1}}
    summaries = train_on_slurm(smoke, runs, poll_seconds=1)
    assert set(summaries) == set(runs)
    jobs = {r: read_record(r)["job_id"] for r in runs}
    assert len({j.split("_")[0] for j in jobs.values()}) == 1  # one array
    # the result is written before the job ends: RUNNING for a moment, then COMPLETED
    assert set(job_states(list(jobs.values())).values()) <= {"RUNNING", "COMPLETING", "COMPLETED"}
    slurm_weights = {r: weights(summaries[r]) for r in runs}
    for r in runs:
        assert (run_dir("train", r) / "summary.json").is_file()
        assert summaries[r]["resumed_from"] is None

    again = train_on_slurm(smoke, runs, poll_seconds=1)  # finished: no job, the same summaries
    assert {r: read_record(r)["job_id"] for r in runs} == jobs
    assert again == summaries

    for r in runs:
        fresh(r)
        local = train_experiment(resolve_experiment(smoke, r), threads=1, progress_bar=False)
        assert_bitwise_equal(weights(local), slurm_weights[r])


def _eight_epochs_signalled_after_one(smoke, run, *scancel_args):
    """Submit ``run`` for 8 epochs (no waiting), and once its first epoch checkpoint is written send
    its job ``scancel *scancel_args``. Returns the params, the job id and the epochs done then."""
    import copy

    from srtod.execution.local import epochs_done
    from srtod.execution.slurm import ACTIVE, job_states
    from srtod.paths import work_dir
    from srtod.stages.train import train_on_slurm

    params = copy.deepcopy(smoke)
    params["active"]["cfg_options"] = {**params["active"]["cfg_options"],
                                       "train_cfg.max_epochs": 8, "train_cfg.val_interval": 8}
    fresh(run)
    job = train_on_slurm(params, [run], wait=False)[run]["job_id"]
    deadline = time.time() + 300
    while epochs_done(work_dir(run)) < 1 and time.time() < deadline:
        time.sleep(0.1)
    assert epochs_done(work_dir(run)) >= 1, "the job did not checkpoint epoch 1 in 300 s"
    subprocess.run(["scancel", *scancel_args, job], check=True)
    if not scancel_args:  # cancelled: wait until SLURM has ended it
        while job_states([job]).get(job) in ACTIVE:
            time.sleep(0.5)
    done = epochs_done(work_dir(run))
    assert done < 8, "the job finished before it was signalled"
    return params, job, done


def _assert_equals_uninterrupted(params, run, resumed_weights):
    """Train ``run`` again from scratch, locally and uninterrupted: bitwise the same weights."""
    from srtod.stages.params import resolve_experiment
    from srtod.stages.train import train_experiment

    fresh(run)
    straight = train_experiment(resolve_experiment(params, run), threads=1, progress_bar=False)
    assert_bitwise_equal(weights(straight), resumed_weights)


@pytest.mark.slow
def test_a_cancelled_job_resubmitted_resumes_bitwise(smoke):
    """A run of 8 epochs whose job is cancelled (scancel) after its first epoch: the next call
    resubmits it, it resumes from its last checkpoint and ends with the weights of an
    uninterrupted run. (submitit lets a job finish its step on SIGTERM; SLURM kills it KillWait,
    5 s, later: the epochs leave room for that.)"""
    from srtod.execution.local import epochs_done
    from srtod.execution.slurm import read_record
    from srtod.paths import work_dir
    from srtod.stages.train import train_on_slurm

    run = "faster_rcnn_srtod"
    params, job, cancelled_at = _eight_epochs_signalled_after_one(smoke, run)

    resumed = train_on_slurm(params, [run], poll_seconds=1)[run]  # resubmitted
    assert read_record(run)["job_id"] != job
    assert resumed["resumed_from"].endswith(f"epoch_{cancelled_at}.pth")
    assert epochs_done(work_dir(run)) == 8
    _assert_equals_uninterrupted(params, run, weights(resumed))


@pytest.mark.slow
def test_a_preempted_job_requeues_itself_and_resumes_bitwise(smoke):
    """A run of 8 epochs whose job gets SIGUSR2 after its first epoch: the signal SLURM sends
    before the time limit (submitit's ``--signal=USR2@90``) and on a pre-emption. submitit calls
    :meth:`ResumableJob.checkpoint` and requeues the job (the same job id): it resumes from the last
    epoch checkpoint, and the one call that waits for it gets the weights of an uninterrupted run."""
    from srtod.execution.local import epochs_done
    from srtod.execution.slurm import read_record
    from srtod.paths import work_dir
    from srtod.stages.train import train_on_slurm

    run = "faster_rcnn"
    params, job, signalled_at = _eight_epochs_signalled_after_one(smoke, run, "--signal=USR2")

    resumed = train_on_slurm(params, [run], poll_seconds=1)[run]  # waits: nothing resubmitted
    assert read_record(run)["job_id"] == job
    log = Path(read_record(run)["log"]).read_text()
    assert "this job is preempted" in log and "DUE TO JOB REQUEUE" in log, log[-3000:]
    assert resumed["resumed_from"] is not None
    assert int(resumed["resumed_from"].rsplit("epoch_", 1)[1].split(".")[0]) >= signalled_at
    assert epochs_done(work_dir(run)) == 8
    _assert_equals_uninterrupted(params, run, weights(resumed))


@pytest.mark.slow
def test_a_job_failing_at_start_names_its_run_and_log(smoke):
    """A run whose model cannot be built: one line naming the run, the error and the job's log; a
    finished run in the same call is kept, not trained again."""
    import copy

    from srtod.execution.slurm import SlurmError, read_record
    from srtod.stages.train import train_on_slurm

    params = copy.deepcopy(smoke)
    params["active"]["cfg_options"] = {**params["active"]["cfg_options"],
                                       "model.type": "NoSuchDetector"}
    fresh("retinanet")
    with pytest.raises(SlurmError) as err:
        train_on_slurm(params, ["retinanet"], poll_seconds=1)
    line = [x for x in str(err.value).splitlines() if x.strip().startswith("retinanet:")]
    assert len(line) == 1 and "NoSuchDetector" in line[0]
    log = read_record("retinanet")["log"]
    assert f"(log: {log})" in line[0] and Path(log).is_file()


@pytest.mark.slow
def test_an_unknown_partition_is_one_line(smoke):
    import copy

    from srtod.execution.slurm import SlurmError
    from srtod.stages.train import train_on_slurm

    params = copy.deepcopy(smoke)
    params["slurm"] = {**(params.get("slurm") or {}), "partition": "nosuch"}
    before = jobs_submitted()
    with pytest.raises(SlurmError, match=r"unknown SLURM partition 'nosuch' \(this cluster has: "
                                         r"debug"):
        train_on_slurm(params, ["faster_rcnn"])
    assert jobs_submitted() == before


@pytest.mark.slow
def test_resources_the_cluster_cannot_give_are_one_line(smoke):
    import copy

    from srtod.execution.slurm import SlurmError
    from srtod.stages.train import train_on_slurm

    params = copy.deepcopy(smoke)
    params["slurm"] = {**(params.get("slurm") or {}), "mem_gb": 100000}
    fresh("faster_rcnn_long")
    before = jobs_submitted()
    with pytest.raises(SlurmError, match=r"sbatch refused the jobs of faster_rcnn_long: .*"
                                         r"node configuration is not available"):
        train_on_slurm(params, ["faster_rcnn_long"])
    assert jobs_submitted() == before


def test_missing_sbatch_is_one_line(monkeypatch, tmp_path):
    """No SLURM client: a clear error before anything is read or submitted."""
    from srtod.execution.slurm import SlurmError
    from srtod.stages.params import load_params
    from srtod.stages.train import train_on_slurm

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SlurmError, match="sbatch not found"):
        train_on_slurm(load_params(profile="smoke"), ["faster_rcnn"])


def test_array_task_ids_listed_together():
    from srtod.execution.slurm import expand_job_ids

    assert expand_job_ids("12") == ["12"] and expand_job_ids("12_3") == ["12_3"]
    assert expand_job_ids("12_[0-2,5%4]") == ["12_0", "12_1", "12_2", "12_5"]


def test_slurm_settings_layering():
    """params.yaml's slurm:, then the profile's slurm:, key by key; an unknown key is an error."""
    from srtod.execution.slurm import DEFAULTS, slurm_settings

    params = {"slurm": {"mem_gb": 8, "partition": "gpu"}, "active": {"slurm": {"mem_gb": 16}}}
    assert slurm_settings(params) == {**DEFAULTS, "mem_gb": 16, "partition": "gpu"}
    with pytest.raises(ValueError, match="unknown keys"):
        slurm_settings({"slurm": {"gpus": 1}, "active": {}})


def test_train_executor_of_params_picks_slurm(monkeypatch):
    """``train_executor: slurm`` in params.yaml sends the train stage (notebook 02, dvc repro) to
    SLURM; an unknown executor is an error."""
    import srtod.stages.train
    from srtod.stages.params import load_params
    from srtod.stages.train import train_experiments

    seen = {}
    monkeypatch.setattr(srtod.stages.train, "train_on_slurm",
                        lambda params, names: seen.setdefault("runs", names) and {})
    params = {**load_params(profile="smoke"), "train_executor": "slurm"}
    train_experiments(params, ["faster_rcnn"])
    assert seen == {"runs": ["faster_rcnn"]}
    with pytest.raises(ValueError, match="train_executor"):
        train_experiments(params, ["faster_rcnn"], executor="ray")


@pytest.mark.slow
def test_srun_two_processes_train_with_the_slurm_launcher(cluster, tmp_path):
    """``scripts/slurm_train.sh debug JOB CONFIG 0`` (srun -n2, ``--launcher slurm``): two CPU
    processes (gloo) train one epoch to one checkpoint, each keeping its random state; launched
    again (a requeued job), the run resumes from that checkpoint and trains nothing more."""
    import sys

    from srtod.data.synthetic import generate_dataset

    data = tmp_path / "data"
    generate_dataset(data, num_images={"train": 8, "val": 2, "test": 2}, image_size=64, seed=0,
                     progress=False)
    work = tmp_path / "run"
    env = dict(os.environ, CPUS_PER_TASK="1", TASKS="2", PYTHON=sys.executable,
               MASTER_PORT=str(free_port_pair()), CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    cmd = ["bash", str(REPO / "scripts/slurm_train.sh"), "debug", "srtod-dist",
           "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", "0",
           "--data-root", str(data), "--image-size", "64", "--work-dir", str(work),
           "--cfg-options", "train_cfg.max_epochs=1", "train_dataloader.batch_size=2",
           "default_hooks.logger.interval=1"]

    def launch() -> str:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    log = launch()
    assert "Distributed launcher: slurm" in log and "Distributed training: True" in log
    # 8 images, 2 processes x batch 2: 2 iterations, one checkpoint
    assert "Epoch(train) [1][2/2]" in log
    assert sorted(p.name for p in work.glob("*.pth")) == ["epoch_1.pth"]
    assert sorted(p.name for p in work.glob("random_state_*")) == ["random_state_rank0.rng",
                                                                  "random_state_rank1.rng"]
    stamp = (work / "epoch_1.pth").stat().st_mtime_ns
    log = launch()
    assert "resumed epoch: 1, iter: 2" in log and "Epoch(train)" not in log
    assert (work / "epoch_1.pth").stat().st_mtime_ns == stamp
