"""Side-by-side jobs: one thread each, logs per job, failures reported without losing the rest."""

import os

import pytest

from srtod.execution.local import run_jobs


def report_threads(job, threads):
    """A job: what a worker sees (module-level, so spawned workers can import it)."""
    import torch

    name, offset = job
    if name == "boom":
        print("about to fail")
        raise ValueError("bad run")
    print(f"hello from {name}")
    return {"name": name, "omp": os.environ.get("OMP_NUM_THREADS"), "threads": threads,
            "torch": torch.get_num_threads(), "pid": os.getpid(), "offset": offset}


def test_jobs_run_side_by_side_with_one_thread_each(tmp_path):
    before = os.environ.get("OMP_NUM_THREADS")
    out = run_jobs(report_threads, {n: (n, 3) for n in "abc"}, tmp_path, workers=2)
    assert list(out) == ["a", "b", "c"]
    assert all(r["omp"] == "1" and r["threads"] == 1 and r["torch"] == 1 for r in out.values())
    assert len({r["pid"] for r in out.values()} | {os.getpid()}) == 3  # two workers, not here
    assert (tmp_path / "b.log").read_text().strip() == "hello from b"
    assert os.environ.get("OMP_NUM_THREADS") == before  # the caller's setting is restored


def test_a_failed_job_is_named_and_the_others_finish(tmp_path):
    with pytest.raises(RuntimeError, match=r"(?s)1 of 3 jobs failed.*boom: ValueError: bad run"):
        run_jobs(report_threads, {n: (n, 0) for n in ("a", "boom", "b")}, tmp_path,
                 workers=2)
    assert "ValueError: bad run" in (tmp_path / "boom.log").read_text()
    assert (tmp_path / "a.log").is_file() and (tmp_path / "b.log").is_file()


def test_one_worker_runs_in_process():
    out = run_jobs(report_threads, {"a": ("a", 0)}, None, workers=1, threads=2)
    assert out["a"]["pid"] == os.getpid() and out["a"]["threads"] == 2


def test_epochs_done_counts_finished_epochs(tmp_path):
    from srtod.execution.local import epochs_done

    assert epochs_done(tmp_path) == 0
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "epoch_7.pth"))
    assert epochs_done(tmp_path) == 7


def test_stages_default_to_every_run_of_the_profile_longest_first(monkeypatch):
    from srtod.execution import local
    from srtod.stages import evaluate, train
    from srtod.stages.params import load_params, profile_runs

    calls = []
    monkeypatch.setattr(local, "run_jobs", lambda func, jobs, *a, **k: calls.append(
        (func.__name__, list(jobs))) or {})
    params = load_params(profile="default")
    train.train_experiments(params)
    evaluate.evaluate_experiments(params)
    (_, trained), (_, evaluated) = calls
    assert sorted(trained) == sorted(evaluated) == sorted(profile_runs(params["active"]))
    assert "faster_rcnn_srtod_s2" in trained
    assert all(n.startswith("faster_rcnn_srtod") for n in trained[:3])  # SR-TOD runs first


def test_a_worker_gets_its_run_only():
    """What travels into a training or evaluation worker is one resolved run, small and enough to
    build its config: not the params of every profile and experiment."""
    import pickle

    from srtod.stages.params import experiment_config, load_params, resolve_experiment

    params = load_params(profile="study")
    exp = resolve_experiment(params, "thr_measured_s2")
    assert (exp.profile, exp.dataset, exp.seed) == ("study", "synthetic", 2)
    assert len(pickle.dumps(exp)) < len(pickle.dumps(params)) / 10
    cfg = pickle.loads(pickle.dumps(exp))
    assert experiment_config(cfg).randomness.seed == 2
