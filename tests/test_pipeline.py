"""The pipeline: params resolution, tables against hand-made results, and the whole DVC pipeline
on the `smoke` profile in a temporary clone."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from srtod.paths import ROOT
from srtod.stages.markdown import to_markdown
from srtod.stages.params import load_params, max_epochs, profile_runs, resolve_experiment
from srtod.stages.tables import table1, write_tables


@pytest.fixture
def params():
    return load_params(profile="default")


def test_a_run_is_a_config_file_at_a_seed(params):
    full = load_params(profile="study")
    rh = resolve_experiment(full, "rh_only")
    assert rh.config == "ablations/rh-only_srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    assert rh.options == {"randomness.seed": 0} and rh.srtod and rh.enabled
    seed = resolve_experiment(full, "rh_only_s2")  # <experiment>_s<k>: the experiment at seed k
    assert seed.seed == 2 and seed.options == {"randomness.seed": 2} and seed.group == "rh_only"
    assert seed.config == rh.config and seed.enabled
    assert not resolve_experiment(full, "rh_only_s3").enabled  # the profile runs 3 seeds: 0-2
    assert resolve_experiment(params, "faster_rcnn").srtod is False
    assert max_epochs(params, "faster_rcnn_srtod_s2") == 60  # the config's schedule
    assert max_epochs(full, "faster_rcnn_srtod_long") == 90  # the convergence check
    longer = resolve_experiment(full, "faster_rcnn_srtod_long")
    assert longer.srtod and longer.group == "faster_rcnn_srtod_long"
    assert not resolve_experiment(params, "dino").enabled  # DETRs stay in smoke and paper
    smoke = load_params(profile="smoke")  # smoke's declared cfg_options: a look in seconds
    assert max_epochs(smoke, "faster_rcnn_srtod") == 1
    paper = load_params(profile="paper")
    assert resolve_experiment(paper, "rh_only").config == \
        "ablations/rh-only_srtod_cascade-rcnn_r50_fpn_20e_droneswarms.py"
    assert resolve_experiment(paper, "rh_only").options == {"randomness.seed": 0}
    with pytest.raises(KeyError, match="nope"):
        resolve_experiment(params, "nope")
    with pytest.raises(KeyError, match="nope_s1"):
        resolve_experiment(params, "nope_s1")
    with pytest.raises(ValueError, match="thr_measured has no 'paper' config"):
        resolve_experiment(paper, "thr_measured")


def test_profile_runs_expand_seeds(params):
    assert profile_runs({"run": {"a": 3, "b": 1, "c": 0}}) == ["a", "a_s1", "a_s2", "b"]
    assert profile_runs({"run": ["a", "b"]}) == ["a", "b"]
    # the default runs the paper's core comparison over 3 seeds
    runs = profile_runs(params["active"])
    for exp in ("faster_rcnn", "faster_rcnn_srtod"):
        assert {exp, f"{exp}_s1", f"{exp}_s2"} <= set(runs)
    # every run of every profile resolves, and the profiles share the default's settings
    for profile in ("smoke", "default", "study", "paper"):
        p = load_params(profile=profile)
        for run in profile_runs(p["active"]):
            assert resolve_experiment(p, run).enabled
    full = load_params(profile="study")["active"]
    assert full["model"] == params["active"]["model"] and full["data"] == params["active"]["data"]


def test_bad_params_name_the_file_and_key(tmp_path):
    path = tmp_path / "params.yaml"
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    data["profile"] = "huge"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"params.yaml: profile 'huge'"):
        load_params(path)
    data["profile"] = "smoke"
    data["profiles"]["smoke"]["run"]["typo_exp"] = 2
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="typo_exp"):
        load_params(path)


def _record(tmp, name, ap, enabled=True, seed=0):
    path = tmp / "eval" / name / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {m: ap + i for i, m in enumerate(("AP", "AP50", "AP75", "APvt", "APt", "APs",
                                                  "ARvt"))}
    record = {"experiment": name, "enabled": enabled, "seed": seed}
    record.update(metrics=metrics) if enabled else record.update(skipped="not run in profile")
    path.write_text(json.dumps(record))


def test_tables_from_results(params, tmp_path):
    _record(tmp_path, "faster_rcnn", 10.0)
    _record(tmp_path, "faster_rcnn_srtod", 12.5)
    _record(tmp_path, "dino", 0, enabled=False)
    for i, (b, s) in enumerate([(9.0, 12.0), (11.0, 13.0)], start=1):
        _record(tmp_path, f"faster_rcnn_s{i}", b, seed=i)
        _record(tmp_path, f"faster_rcnn_srtod_s{i}", s, seed=i)
    t1 = table1(params, tmp_path).set_index("method")
    assert t1.loc["Faster R-CNN", "AP"] == 10.0 and t1.loc["Faster R-CNN w/ SR-TOD", "AP"] == 12.5
    improvement = t1.iloc[list(t1.index).index("Faster R-CNN w/ SR-TOD") + 1]
    assert improvement["AP"] == pytest.approx(2.5) and improvement["paper AP"] == pytest.approx(1.3)
    assert t1.loc["DINO", "note"] == "not run in profile" and np.isnan(t1.loc["DINO", "AP"])
    tables = write_tables(params, tmp_path, tmp_path / "tables")
    seeds = tables["seeds"].set_index(["experiment", "metric"])
    assert seeds.loc[("faster_rcnn_srtod", "AP"), "mean"] == pytest.approx(np.mean([12.5, 12, 13]))
    assert seeds.loc[("faster_rcnn", "AP"), "std"] == pytest.approx(np.std([10, 9, 11], ddof=1))
    assert seeds.loc[("faster_rcnn", "AP"), "count"] == 3
    # paired by seed: differences 2.5, 3, 2 -> mean 2.5, sd 0.5, t(0.975, 2) = 4.302653
    compare = tables["compare"].set_index(["experiment", "metric"])
    row = compare.loc[("faster_rcnn_srtod", "AP")]
    assert row["baseline"] == "faster_rcnn" and row["seeds"] == 3
    assert row["difference"] == pytest.approx(2.5)
    assert (row["t low"], row["t high"]) == pytest.approx((2.5 - 4.302653 * 0.5 / np.sqrt(3),
                                                          2.5 + 4.302653 * 0.5 / np.sqrt(3)))
    assert row["seed-level CI"] == "better (CI excludes 0)"
    assert np.isnan(row["bootstrap low"])  # no detections files here: no image-level interval
    assert "| faster_rcnn_srtod vs faster_rcnn | AP | 3 |" in (
        tmp_path / "tables" / "compare.md").read_text()
    md = (tmp_path / "tables" / "table1.md").read_text()
    assert "| Faster R-CNN w/ SR-TOD | 3 | 12.5 | 36.3 |" in md  # mean of 3 seeds
    headline = json.loads((tmp_path / "tables" / "headline.json").read_text())
    assert headline == {"faster_rcnn": pytest.approx({"AP": 10, "AP50": 11, "AP75": 12,
                                                      "APvt": 13, "APt": 14, "APs": 15}),
                        "faster_rcnn_srtod": pytest.approx({"AP": 12.5, "AP50": 13.5,
                                                            "AP75": 14.5, "APvt": 15.5,
                                                            "APt": 16.5, "APs": 17.5})}
    assert "nan" not in to_markdown(t1.reset_index(), "t")
    assert "per_class" not in tables  # one-class records: no per-class table
    # a two-class data set: per-class AP under the json's names, mean over the seeds
    for i, name in enumerate(("faster_rcnn", "faster_rcnn_s1", "faster_rcnn_s2")):
        path = tmp_path / "eval" / name / "metrics.json"
        record = json.loads(path.read_text())
        record["per_class"] = {"drone": {"AP": 20.0 + i, "APvt": 5.0},
                               "bird": {"AP": 40.0, "APvt": float("nan")}}
        path.write_text(json.dumps(record))
    per_class = write_tables(params, tmp_path, tmp_path / "tables")["per_class"]
    per_class = per_class.set_index(["experiment", "class"])
    assert per_class.loc[("faster_rcnn", "drone"), "AP"] == pytest.approx(21.0)
    assert per_class.loc[("faster_rcnn", "bird"), "seeds"] == 3
    assert np.isnan(per_class.loc[("faster_rcnn", "bird"), "APvt"])
    assert "| faster_rcnn | bird | 3 | 40.0 |" in (tmp_path / "tables" / "per_class.md").read_text()
    # no long runs in this profile: the convergence table says so instead of an empty table
    convergence = (tmp_path / "tables" / "convergence.md").read_text()
    assert "No run of the active profile" in convergence and "|" not in convergence


def test_convergence_table_over_seeds(tmp_path):
    """The longer runs against the normal ones, per seed, and over seeds the mean gain with its
    t-interval: the verdict is the mean's."""
    from srtod.stages.tables import convergence_table

    full = load_params(profile="study")
    full["active"]["run"] = {"faster_rcnn": 3, "faster_rcnn_long": 3}
    for i, (short, long) in enumerate([(30.0, 29.0), (31.0, 31.5), (32.0, 31.0)]):
        suffix = f"_s{i}" if i else ""
        _record(tmp_path, f"faster_rcnn{suffix}", short, seed=i)
        _record(tmp_path, f"faster_rcnn_long{suffix}", long, seed=i)
    for record in tmp_path.glob("eval/*/metrics.json"):  # evaluated in the full profile
        record.write_text(json.dumps(dict(json.loads(record.read_text()), profile="study")))
    table = convergence_table(full, tmp_path)
    assert list(table["seed"]) == [0, 1, 2, "mean of 3"]
    assert list(table["AP gain"]) == pytest.approx([-1.0, 0.5, -1.0, -0.5])
    mean = table.iloc[3]
    half = 4.302653 * np.std([-1.0, 0.5, -1.0], ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert (mean["AP gain low"], mean["AP gain high"]) == pytest.approx((-0.5 - half, -0.5 + half))
    epochs = 60  # the configs' schedules: 60 and 90 epochs
    assert mean["APvt"] == pytest.approx(34.0) and mean["epochs"] == epochs
    assert mean["longer epochs"] == 90
    assert mean["converged (AP gain < 1)"] == "yes (mean; CI reaches 1)"  # high = 1.65
    assert table.columns[-1] == "converged (AP gain < 1)"
    md = to_markdown(table, "c")
    assert f"| faster_rcnn | mean of 3 | {epochs} | 90 | 31.0 | 30.5 | -0.5 |" in md
    # the normal-schedule metrics from a published all_metrics.json instead: runs it lacks drop out
    for short in tmp_path.glob("eval/faster_rcnn/metrics.json"):
        short.unlink()  # not read when a reference is given
    published = {"faster_rcnn": {"AP": 28.0, "APvt": 20.0}, "faster_rcnn_s1": {"AP": 33.0, "APvt": 21.0}}
    table = convergence_table(full, tmp_path, reference=published)
    assert list(table["seed"]) == [0, 1, "mean of 2"]
    assert list(table["AP gain"]) == pytest.approx([1.0, -1.5, -0.25])
    assert list(table["APvt"])[:2] == [20.0, 21.0]
    assert list(table["converged (AP gain < 1)"])[:2] == ["no", "yes"]


def _temporary_clone(tmp_path):
    """The repository's files (tracked and untracked, not ignored) in a new git repository with the
    smoke profile active; returns its path and a function that runs a command there."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    clone = tmp_path / "clone"
    for f in files:
        if (ROOT / f).is_file():
            (clone / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, clone / f)
    params = yaml.safe_load((clone / "params.yaml").read_text())
    params["profile"] = "smoke"
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("SRTOD_WORKSPACE", None)  # the clone's own data/, results/, work_dirs/
    env.pop("PYTHONPATH", None)  # and its own srtod (the kernels would put PYTHONPATH first)

    def run(*cmd, check=True):
        return subprocess.run(cmd, cwd=clone, env=env, check=check, capture_output=True, text=True)

    run("git", "init", "-q")
    run("git", "add", "-A")
    run("git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "clone")
    return clone, run


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_dvc_pipeline_smoke_in_temporary_clone(tmp_path):
    """`dvc repro` on the smoke profile in a fresh copy of the repository, then a no-op repro."""
    clone, run = _temporary_clone(tmp_path)
    (clone / "data" / "raw").mkdir(parents=True, exist_ok=True)
    run(sys.executable, "-m", "dvc", "repro")
    results = clone / "results"
    for path in ("tables/table1.md", "tables/headline.json", "figures/training_curves.png",
                 "figures/fig1_difference_map_0.png", "cost/cost.md", "data/stats.json",
                 "eval/faster_rcnn_srtod/metrics.json", "notebooks/06_figures.ipynb",
                 "tables/compare.md", "tables/convergence.md", "tables/runs.md",
                 "figures/val_ap_curves.png", "figures/paired_differences.png",
                 "train/faster_rcnn_srtod_s1/val_curve.csv", "eval/faster_rcnn_s1/metrics.json",
                 "figures/threshold/threshold_curve.png", "study/study.md"):
        assert (results / path).is_file(), path
    # the smoke profile runs 2 seeds of baseline and SR-TOD: a paired comparison with both
    # intervals, and the 1.5x-longer baseline: a convergence row
    compare = (results / "tables/compare.md").read_text()
    assert "| faster_rcnn_srtod vs faster_rcnn | AP | 2 |" in compare
    # smoke's cfg_options train every run 1 epoch, the longer schedule too
    assert "| faster_rcnn | 0 | 1 | 1 |" in (results / "tables/convergence.md").read_text()
    # experiments the profile does not run leave nothing behind
    assert not (results / "train/faster_rcnn_s2").exists()
    # coverage is measured for binary difference maps only: not for the unbinarized D of 'w/o T'
    assert (results / "eval/thr_fixed/coverage.csv").is_file()
    assert not (results / "eval/thr_none/coverage.csv").exists()
    again = run(sys.executable, "-m", "dvc", "repro")  # nothing changed: nothing runs
    assert "Data and pipelines are up to date" in again.stdout
    shown = run(sys.executable, "-m", "dvc", "metrics", "show", "--json")
    assert "faster_rcnn_srtod" in shown.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_dvc_queue_sweep_on_smoke(tmp_path):
    """The one-machine sweep (docs/pipeline.md): two smoke experiments queued with
    `dvc exp run --queue -S`, run by `dvc queue start -j 2`, listed by `dvc exp show` with their
    params and metrics. Each runs the whole pipeline in its own temporary copy."""
    clone, run = _temporary_clone(tmp_path)
    dvc = Path(sys.executable).parent / "dvc"
    run("bash", "scripts/dvc_cache_raw.sh", str(dvc))  # what `make setup` does
    assert (clone / "data" / "raw").is_dir() and not run("git", "status", "--porcelain").stdout
    # the sweep: training-set size 8 and 12; one worker each (two experiments side by side);
    # only the main comparison, 1 seed each, so that the test is quick
    smoke = yaml.safe_load((clone / "params.yaml").read_text())["profiles"]["smoke"]
    only = [f"profiles.smoke.run.{exp}={int(exp in ('faster_rcnn', 'faster_rcnn_srtod'))}"
            for exp in smoke["run"]]
    sets = ["profile=smoke", "profiles.smoke.workers=1", "profiles.smoke.data.num_images.train=8,12",
            *only]
    queued = run(str(dvc), "exp", "run", "--queue", *[a for s in sets for a in ("-S", s)])
    assert queued.stdout.count("Queued experiment") == 2, queued.stdout
    try:
        run(str(dvc), "queue", "start", "-j", "2")
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            status = run(str(dvc), "queue", "status").stdout
            if not any(state in status for state in ("Queued", "Running")):
                break
            time.sleep(10)
    finally:
        run(str(dvc), "queue", "stop", "--kill", check=False)  # workers left behind
    shown = json.loads(run(str(dvc), "exp", "show", "--json").stdout)
    exps = [e for rev in shown for e in (rev.get("experiments") or [])]
    assert len(exps) == 2, status
    sizes = []
    for exp in exps:
        log = Path(exp["executor"]["local"]["log"])
        text = log.read_text()  # the failing stage's section: the kernel's own error is in it
        assert exp["executor"]["state"] == "success", text[text.rfind("Running stage"):][-6000:]
        data = exp["revs"][0]["data"]
        params = data["params"]["params.yaml"]["data"]
        assert params["profile"] == "smoke" and params["profiles"]["smoke"]["workers"] == 1
        sizes.append(params["profiles"]["smoke"]["data"]["num_images"]["train"])
        headline = data["metrics"]["results/tables/headline.json"]["data"]
        assert set(headline) == {"faster_rcnn", "faster_rcnn_srtod"}  # the runs of the sweep
        assert all(0 <= headline[run_][m] <= 100 for run_ in headline for m in ("AP", "APvt"))
    assert sorted(sizes) == [8, 12]
    table = run(str(dvc), "exp", "show", "--md", "--no-pager").stdout  # what a user reads
    assert "headline.json" in table or "faster_rcnn_srtod.AP" in table


def test_prepare_real_dataset_layout_validates_and_fixes(tmp_path, params):
    """A real data set under data/raw/<name>/ is validated; bad boxes are fixed, not lost silently."""
    from srtod.data.synthetic import generate_dataset
    from srtod.stages.prepare import prepare_data

    raw = tmp_path / "raw" / "droneswarms"
    generate_dataset(raw, num_images={"train": 3, "val": 2, "test": 2}, image_size=64, seed=1,
                     progress=False)
    ann = raw / "annotations" / "train.json"
    data = json.loads(ann.read_text())
    data["annotations"][0]["bbox"][2] = 0.0  # a degenerate box
    ann.write_text(json.dumps(data))
    params["active"]["data"] = {"name": "droneswarms", "root": str(raw)}
    out = tmp_path / "prepared"
    result = prepare_data(params, out=out, results=tmp_path / "results")
    assert (out / "images").is_symlink() and (out / "images" / "train").is_dir()
    fixed = json.loads((out / "annotations" / "train.json").read_text())
    assert len(fixed["annotations"]) == len(data["annotations"]) - 1
    assert "train" in result["validation"] and (tmp_path / "results" / "validation.json").is_file()
    assert result["stats"]["test"]["images"] == 2
    params["active"]["data"] = {"name": "aitod", "root": str(tmp_path / "missing")}
    with pytest.raises(FileNotFoundError, match="README"):
        prepare_data(params, out=tmp_path / "p2", results=tmp_path / "r2")


def test_main_table_follows_the_data_set(params, tmp_path):
    _record(tmp_path, "faster_rcnn", 1.0)
    params["active"]["data"] = {"name": "visdrone"}
    tables = write_tables(params, tmp_path, tmp_path / "tables")
    assert "table2" in tables and "table1" not in tables
    t2 = tables["table2"].set_index("method")
    assert t2.loc["Faster R-CNN", "paper AP"] == 23.9 and pd_isna(t2.loc["RetinaNet", "paper AP"])
    assert "VisDrone" in (tmp_path / "tables" / "table2.md").read_text()


def pd_isna(value):
    import pandas as pd

    return pd.isna(value)


def test_prepared_data_is_the_same_bytes_in_any_folder(tmp_path):
    """The prepare stage writes no absolute path: two workspaces (as two clones in different
    folders) get byte-identical data/prepared and results/data, so DVC's hashes match."""
    import os
    import subprocess
    import sys

    from srtod.paths import ROOT

    trees = []
    for name in ("a", "deeper/b"):
        workspace = tmp_path / name
        env = dict(os.environ, SRTOD_WORKSPACE=str(workspace))
        subprocess.run([sys.executable, "-m", "srtod", "pipeline", "prepare", "--profile",
                        "smoke"], cwd=ROOT, env=env, check=True, capture_output=True)
        files = {}
        for sub in ("data/prepared", "results/data"):
            for path in sorted((workspace / sub).rglob("*")):
                if path.is_file():
                    files[str(path.relative_to(workspace))] = path.read_bytes()
        trees.append(files)
    assert trees[0].keys() == trees[1].keys() and len(trees[0]) > 10
    different = [name for name in trees[0] if trees[0][name] != trees[1][name]]
    assert not different
    assert b"/" + str(tmp_path).encode().lstrip(b"/") not in b"".join(trees[0].values())
