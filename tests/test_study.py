"""The threshold study's committed records: lossless round trip, and tables built from the
records equal the tables built from the runs."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from random_problems import random_detection_problem

from srtod.evaluation import evaluate_coco
from srtod.evaluation.bootstrap import match_images
from srtod.paths import run_dir
from srtod.stages.study import (
    DESIGNS,
    PUBLISHED_PREFIX,
    ROWS,
    SOURCES,
    THRESHOLD_STUDY,
    Source,
    materialize,
    materialize_source,
    read_record,
    study_markdown,
    study_tables,
    welch_interval,
    write_record,
)


def _fake_runs(results, ann_file, runs):
    """Evaluated runs under ``results``: float32 detections (as mmdet returns them) of a random
    problem per run, their AI-TOD metrics, a coverage record and a training summary."""
    gt, _ = random_detection_problem(n_images=12, n_classes=1, gts_per_image=6, image_size=128,
                                     dets_per_image=1, crowd_fraction=0, seed=0,
                                     empty_class=False, empty_image=False)
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    ann_file.write_text(json.dumps(gt))
    for k, run in enumerate(runs):
        _, dets = random_detection_problem(n_images=12, n_classes=1, gts_per_image=6,
                                           image_size=128, dets_per_image=(5, 30),
                                           crowd_fraction=0, seed=0, empty_class=False,
                                           empty_image=False)
        rng = np.random.default_rng(k + 1)
        for d in dets:  # each run its own detections, float32 values
            d["bbox"] = [float(np.float32(v + rng.normal(0, 1))) for v in d["bbox"]]
            d["bbox"][2:] = [max(v, 1.0) for v in d["bbox"][2:]]
            d["score"] = float(np.float32(rng.uniform()))
        out = run_dir("eval", run, results)
        out.mkdir(parents=True, exist_ok=True)
        (out / "detections.json").write_text(json.dumps(dets))
        metrics = evaluate_coco(ann_file, dets, protocol="aitod")["metrics"]
        bucket = {"n_boxes": 3, "touched_share": 0.5 + 0.1 * k, "mean_covered_share": 0.1}
        record = {"experiment": run, "enabled": True, "metrics": metrics, "final_t": 0.1 + k / 100,
                  "coverage": {"per_bucket": {"vt": bucket, "t": bucket},
                               "background_share": 0.01 * k}}
        (out / "metrics.json").write_text(json.dumps(record))
        train = run_dir("train", run, results)
        train.mkdir(parents=True, exist_ok=True)
        (train / "summary.json").write_text(json.dumps({"experiment": run, "train_seconds": 9.5}))


def _published(folder, metrics, threads=None):
    """A published source's frozen folder: ``all_metrics.json`` and ``runs.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all_metrics.json").write_text(json.dumps(
        {r: dict(m, final_t=0.15) for r, m in metrics.items()}))
    pd.DataFrame([{"run": r, "seed": int(r[-1]) if r[-3:-1] == "_s" else 0,
                   "threads": (threads or {}).get(r, 1), "train s": 10.0}
                  for r in metrics]).to_csv(folder / "runs.csv", index=False)
    return Source("published 79d673f", PUBLISHED_PREFIX, folder, machine="P", machine_note="P's")


def test_records_round_trip_and_tables_equal(tmp_path):
    runs = ["faster_rcnn", "faster_rcnn_s1", "faster_rcnn_srtod", "faster_rcnn_srtod_s1",
            "rh_only", "rh_only_s1", "thr_ste"]
    ann_file = tmp_path / "test.json"
    direct = tmp_path / "runs"
    _fake_runs(direct, ann_file, runs)
    published = _published(tmp_path / "published", {r: json.loads(
        (run_dir("eval", r, direct) / "metrics.json").read_text())["metrics"] for r in runs[:4]})
    sources = (SOURCES[0], published)
    machines = tmp_path / "machines.csv"  # none inferred: each run's machine unknown
    machines.write_text("run,machine\n")
    records = tmp_path / "records"
    for run in runs:
        path = write_record(run, direct, records)
        rec = read_record(path)
        dets = json.loads((run_dir("eval", run, direct) / "detections.json").read_text())
        assert rec["bbox"].tolist() == [d["bbox"] for d in dets]  # lossless
        assert rec["record"]["train"]["train_seconds"] == 9.5
    first = (records / "rh_only.npz").read_bytes()
    write_record("rh_only", direct, records)  # unchanged: the file is left as it was
    assert (records / "rh_only.npz").read_bytes() == first

    rebuilt = tmp_path / "rebuilt"
    assert materialize(records, rebuilt) == sorted(runs)
    for results in (direct, rebuilt):
        materialize_source(results, published)
    design = replace(THRESHOLD_STUDY, sources=sources, machines=machines)
    a = study_tables(direct, design, n_boot=50, ann_file=ann_file)
    b = study_tables(rebuilt, design, n_boot=50, ann_file=ann_file)
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key])
    assert study_markdown(a, design) == study_markdown(b, design)

    rows = a["rows"].set_index("experiment")
    assert rows.loc["rh_only", "seeds"] == "2 of 3" and rows.loc["thr_measured", "seeds"] == "0 of 3"
    assert set(rows.index) >= {exp for _, exp, _ in ROWS}  # every fixed row, run or not
    cmp = a["compare"]
    rh = cmp[(cmp["experiment"] == "rh_only") & (cmp["metric"] == "AP")]
    this = rh[rh["baseline"] == "faster_rcnn"].iloc[0]
    pub = rh[rh["baseline"] == PUBLISHED_PREFIX + "faster_rcnn"].iloc[0]
    ap = {r: json.loads((run_dir("eval", r, direct) / "metrics.json").read_text())["metrics"]["AP"]
          for r in runs}
    expected = np.mean([ap["rh_only"] - ap["faster_rcnn"], ap["rh_only_s1"] - ap["faster_rcnn_s1"]])
    assert this["difference"] == pytest.approx(expected) and pub["difference"] == pytest.approx(
        expected)  # the published metrics here are the same runs'
    assert this["replicates"] == 50 and not np.isnan(this["bootstrap low"])
    assert (this["machines"], this["same machine"]) == ("?/?, ?/?", "0 of 2")  # unknown: unshared
    assert pub["replicates"] == 0 and np.isnan(pub["bootstrap low"])  # no detections published
    # SR-TOD at 40/255 against the baseline of its own source only (the default's comparison)
    sr = cmp[(cmp["experiment"].str.endswith("faster_rcnn_srtod")) & (cmp["metric"] == "AP")]
    assert sorted(zip(sr["experiment"], sr["baseline"], strict=True)) == [
        ("faster_rcnn_srtod", "faster_rcnn"),
        (PUBLISHED_PREFIX + "faster_rcnn_srtod", PUBLISHED_PREFIX + "faster_rcnn")]
    sr_this = sr[sr["baseline"] == "faster_rcnn"].iloc[0]
    assert sr_this["difference"] == pytest.approx(np.mean(
        [ap["faster_rcnn_srtod"] - ap["faster_rcnn"],
         ap["faster_rcnn_srtod_s1"] - ap["faster_rcnn_s1"]]))
    assert not np.isnan(sr_this["bootstrap low"])
    assert set(cmp.loc[cmp["experiment"] == "faster_rcnn", "row"]) == set()  # the baseline: none
    # where the detections changed: the runs with a baseline of the same seed, each count from
    # its own run's detections
    ch = a["detection_changes"]
    assert sorted(set(zip(ch["experiment"], ch["seed"], strict=True))) == [
        ("faster_rcnn_srtod", 0), ("faster_rcnn_srtod", 1), ("rh_only", 0), ("rh_only", 1),
        ("thr_ste", 0)]
    one = ch[(ch["experiment"] == "rh_only") & (ch["seed"] == 1) & (ch["bucket"] == "vt")
             & (ch["score_thr"] == 0.3)].iloc[0]
    for run, col in (("rh_only_s1", "hits"), ("faster_rcnn_s1", "baseline hits")):
        counts = match_images(ann_file, run_dir("eval", run, direct) / "detections.json").hits(
            "vt", 0.5, [0.3])
        assert one[col] == counts["tp"][0] and one["n_gt"] == counts["n_gt"][0]
    cov = a["coverage"].set_index("row")
    assert cov.loc[ROWS[0][0], "very tiny touched %"] == pytest.approx(95.0)  # runs 4 and 5: 90 and 100


def test_welch_interval_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    for nx, ny, sx, sy in ((6, 6, 0.6, 0.5), (3, 7, 2.0, 0.3), (2, 2, 1.0, 1.0)):
        x, y = rng.normal(33, sx, nx), rng.normal(32, sy, ny)
        diff, low, high, df = welch_interval(x, y)
        ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
        assert diff == pytest.approx(x.mean() - y.mean())
        assert (low, high) == pytest.approx((ci.low, ci.high))
        assert stats.ttest_ind(x, y, equal_var=False).df == pytest.approx(df)
    assert all(np.isnan(v) for v in welch_interval([1.0], [1.0, 2.0])[1:])
    assert welch_interval([1.0, 1.0], [2.0, 2.0])[:3] == (-1.0, -1.0, -1.0)  # no spread


def test_pooled_references_and_machines(tmp_path):
    """Baseline and SR-TOD at 40/255 pooled over the study's and a published source's runs, against
    scipy's Welch interval over the same values; each comparison's machines from the inferred
    table, a run's own provenance or its source, with the pairs that share one."""
    from scipy import stats

    own = ["faster_rcnn", "faster_rcnn_s1", "faster_rcnn_s2", "faster_rcnn_srtod",
           "faster_rcnn_srtod_s1", "faster_rcnn_srtod_s2"]
    ann_file, results = tmp_path / "test.json", tmp_path / "runs"
    _fake_runs(results, ann_file, [*own, "rh_only", "rh_only_s1"])
    # a run trained since runs record their provenance names its machine itself
    (run_dir("train", "faster_rcnn_srtod_s2", results) / "summary.json").write_text(json.dumps(
        {"threads": 1, "provenance": [{"from_iter": 0, "machine_id": "AMD EPYC 7R13 (family 25)"}]}))
    rng = np.random.default_rng(0)
    published = _published(tmp_path / "published", {r: {
        k: v + rng.normal(0, 2) for k, v in json.loads(
            (run_dir("eval", r, results) / "metrics.json").read_text())["metrics"].items()}
        for r in own}, threads={"faster_rcnn_s1": 2})
    sources = (SOURCES[0], published)
    machines = tmp_path / "machines.csv"
    machines.write_text("run,machine\nfaster_rcnn,B\nfaster_rcnn_s1,B\nfaster_rcnn_s2,B\n"
                        "faster_rcnn_srtod,A\nfaster_rcnn_srtod_s1,B\nrh_only,A\nrh_only_s1,A\n")
    materialize_source(results, published)
    design = replace(THRESHOLD_STUDY, sources=sources, machines=machines)
    tables = study_tables(results, design, n_boot=20, ann_file=ann_file)

    def ap(run):
        return json.loads((run_dir("eval", run, results) / "metrics.json").read_text())[
            "metrics"]["AP"]

    base = [ap(p + r) for p in ("", PUBLISHED_PREFIX) for r in own[:3]]
    srtod = [ap(p + r) for p in ("", PUBLISHED_PREFIX) for r in own[3:]]
    row = tables["pooled"].set_index("metric").loc["AP"]
    ci = stats.ttest_ind(srtod, base, equal_var=False).confidence_interval(0.95)
    assert row["baseline runs"] == row["SR-TOD runs"] == 6
    assert row["baseline mean"] == pytest.approx(np.mean(base))
    assert row["SR-TOD std"] == pytest.approx(np.std(srtod, ddof=1))
    assert row["difference"] == pytest.approx(np.mean(srtod) - np.mean(base))
    assert (row["welch low"], row["welch high"]) == pytest.approx((ci.low, ci.high))
    assert row["width"] == pytest.approx(ci.high - ci.low)
    assert row["verdict"] == ("better (CI excludes 0)" if ci.low > 0 else "worse (CI excludes 0)"
                              if ci.high < 0 else "no effect measured (CI includes 0; width "
                              f"{ci.high - ci.low:.1f})")
    assert row["baseline machines"] == "B x3, P x2, P+2t x1"
    assert row["SR-TOD machines"] == "A x1, B x1, M1 x1, P x3"

    which = tables["run_machines"].set_index("run")
    assert which.loc["faster_rcnn_srtod_s2", "machine"] == "AMD EPYC 7R13 (family 25)"
    assert which.loc["faster_rcnn_srtod_s2", "from"] == "the run's provenance"
    assert which.loc[PUBLISHED_PREFIX + "faster_rcnn_s1", "label"] == "P+2t"
    cmp = tables["compare"][tables["compare"]["metric"] == "AP"].set_index(["row", "reference"])
    shared = {k: (r["machines"], r["same machine"]) for k, r in cmp.iterrows()}
    assert shared[ROWS[0][0], "baseline (this study)"] == ("A/B, A/B", "0 of 2")
    assert shared[ROWS[0][0], "SR-TOD t = 40/255 (this study)"] == ("A/A, A/B", "1 of 2")
    assert shared[ROWS[0][0], "baseline (published 79d673f)"] == ("A/P, A/P+2t", "0 of 2")
    assert shared["SR-TOD t = 40/255 (this study)", "baseline (this study)"] == (
        "A/B, B/B, M1/B", "1 of 3")
    assert shared["SR-TOD t = 40/255 (published 79d673f)", "baseline (published 79d673f)"] == (
        "P/P, P/P+2t, P/P", "3 of 3")  # one machine; the threads differ at seed 1
    text = study_markdown(tables, design)
    assert "M1: AMD EPYC 7R13 (family 25)" in text and "P: P's" in text and "+Nt" in text
    assert "| AP | 6 (B x3, P x2, P+2t x1) |" in text


def test_record_refuses_lossy_detections(tmp_path):
    out = run_dir("eval", "rh_only", tmp_path)
    out.mkdir(parents=True)
    (out / "metrics.json").write_text(json.dumps({"enabled": True, "metrics": {}}))
    (out / "detections.json").write_text(json.dumps(
        [{"image_id": 1, "category_id": 1, "bbox": [0.1, 0.2, 3, 4], "score": 0.5}]))
    with pytest.raises(ValueError, match="float32"):
        write_record("rh_only", tmp_path, tmp_path / "records")


def test_study_command_builds_tables_from_records(tmp_path, monkeypatch, capsys):
    """``srtod study tables`` from a records folder alone (no local runs): markdown, CSVs, figure."""
    import srtod.commands.study as command
    import srtod.stages.study
    import srtod.stages.study.build

    direct = tmp_path / "runs"
    ann_file = tmp_path / "test.json"
    _fake_runs(direct, ann_file, ["faster_rcnn", "faster_rcnn_srtod", "thr_none"])
    records = tmp_path / "docs" / "records"
    for run in ("faster_rcnn", "faster_rcnn_srtod", "thr_none"):
        write_record(run, direct, records, ann_file=ann_file)
    monkeypatch.setitem(srtod.stages.study.DESIGNS, "threshold",
                        replace(THRESHOLD_STUDY, folder=records.parent))
    # the records' test set: found by its hash (here the fake ground truth, not a generated set)
    monkeypatch.setattr(srtod.stages.study.build, "study_ground_truth",
                        lambda recs, tmp, profile: ann_file if srtod.stages.study.read_record(
                            next(recs.glob("*.npz")))["record"]["test_annotations_sha256"]
                        == srtod.stages.study.file_sha256(ann_file) else None)
    monkeypatch.setattr(command, "record_runs", lambda runs, design: [])
    from srtod.cli import main

    assert main(["study", "tables", "--bootstrap", "20"]) == 0
    out = tmp_path / "docs"
    text = (out / "study.md").read_text()
    assert "| SR-TOD, no threshold (D used directly) | no binarization | 1 of 3 |" in text
    assert "| SR-TOD, t measured, fixed | t | 0 of 3 |" in text
    assert (out / "paired_differences.png").stat().st_size > 5_000
    compare = pd.read_csv(out / "compare.csv")
    assert len(compare) > 0 and (compare["replicates"] == 20).any()  # image-level intervals
    assert "3 recorded runs" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_every_design_trains_its_rows_and_references_in_its_profile(name):
    """A study's rows and references are runs of its profile, with 3 seeds each and one schedule
    (a row left out of ``params.yaml`` would never train; a config missing would fail only hours
    in; a row on another schedule than its references would compare two schedules)."""
    from srtod.stages.params import (
        experiment_config,
        load_params,
        profile_groups,
        resolve_experiment,
    )

    design = DESIGNS[name]
    params = load_params(profile=design.profile)
    groups = profile_groups(params["active"])
    epochs = set()
    for experiment in [row[1] for row in design.rows] + [ref[1] for ref in design.references]:
        assert len(groups.get(experiment, {})) == 3, (name, experiment)
        epochs.add(experiment_config(resolve_experiment(params, experiment)).train_cfg.max_epochs)
    assert len(epochs) == 1, (name, epochs)
