"""Every run is a config file: params.yaml only picks a config and its seeds, each ablation is one
change to its parent, and each data-set fact is written once."""

import ast
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from srtod.config import DATA_KEYS, dataset_base, list_configs, load_config
from srtod.data.catalog import CATALOG
from srtod.paths import CONFIGS
from srtod.stages.params import (
    ablation_detector,
    experiment_config,
    experiment_parent,
    load_params,
    parent_config,
    profile_groups,
    resolve_experiment,
)
from srtod.stages.tables import reference_of

PROFILES = ("smoke", "default", "study", "paper")
ABLATIONS = [c for c in list_configs() if c.startswith("ablations/")]
DATASET_BASES = sorted(p.stem for p in (CONFIGS / "_base_" / "datasets").glob("*.py")
                       if p.stem != "coco_layout")


def _leaves(node, path=""):
    """``{dotted path: value}`` of every leaf of a nested dict/list config."""
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in _leaves(value, f"{path}.{key}").items()}
    if isinstance(node, (list, tuple)):
        return {k: v for i, value in enumerate(node) for k, v in _leaves(value, f"{path}.{i}").items()}
    return {path.lstrip("."): node}


def _group_runs():
    for profile in PROFILES:
        params = load_params(profile=profile)
        for runs in profile_groups(params["active"]).values():
            yield profile, max(runs.values(), key=len)  # the run at its highest seed


@pytest.mark.parametrize("profile,run", list(_group_runs()))
def test_the_config_file_is_what_trains(profile, run):
    """The resolved config of a run equals its file's, apart from the data root (the prepared
    data), the seed and, in `smoke` only, the profile's declared cfg_options (and the LR schedule
    that follows its epochs)."""
    params = load_params(profile=profile)
    exp = resolve_experiment(params, run)
    trains = _leaves(experiment_config(exp).to_dict())
    written = _leaves(Config.fromfile(CONFIGS / exp.config).to_dict())
    options = params["active"].get("cfg_options") or {}
    allowed = re.compile(r"^(.*dataloader\.dataset\.data_root|.*_evaluator\.ann_file|"
                         r"randomness\.seed" + "".join(f"|{re.escape(k)}" for k in options) +
                         (r"|param_scheduler\.\d+\.(end|begin)" if options else "") + ")$")
    changed = {k for k in trains.keys() | written.keys() if trains.get(k) != written.get(k)}
    assert {k for k in changed if not allowed.match(k)} == set(), exp.config
    assert trains["randomness.seed"] == exp.seed
    assert exp.seed == (int(run.rsplit("_s", 1)[1]) if re.search(r"_s\d+$", run) else 0)


def test_params_only_pick():
    """No profile carries training settings of its own but smoke's declared cfg_options; no
    experiment carries overrides; the private inheritance keys are gone."""
    params = load_params()
    for name, profile in params["profiles"].items():
        assert set(profile) <= {"data", "model", "workers", "run", "figures", "detect",
                                "cfg_options"}, name
        assert not profile.get("cfg_options") or name == "smoke"
        assert "image_size" not in profile["data"]  # the config's (its data-set base's)
    for name, spec in params["experiments"].items():
        assert set(spec) <= {"detector", "reference", "config"}, name
        for pattern in spec["config"].values():
            assert "{data}" in pattern or (CONFIGS / pattern).is_file(), (name, pattern)


@pytest.mark.parametrize("config", ABLATIONS)
def test_an_ablation_is_one_change_to_the_parent_its_name_says(config):
    """ablations/<change>_<parent>.py inherits <parent> (a detector's config, found by name) and
    changes it in at most six lines of code."""
    change, parent_name = Path(config).name.split("_", 1)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", change), change
    parent = parent_config(config)
    assert parent is not None and Path(parent).name == parent_name
    code = [line for line in (CONFIGS / config).read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) <= 6, code
    assert (CONFIGS / config).read_text().startswith("#")  # says what it changes, and why


def test_every_ablation_config_is_a_run_of_params():
    params = load_params()
    used = {p for spec in params["experiments"].values() for p in spec["config"].values()}
    for config in ABLATIONS:
        pattern = re.sub(r"_(\d+e)_(droneswarms|visdrone|aitod)\.py$", r"_*_{data}.py", config)
        assert config in used or pattern in used, config


def test_relations_between_runs_follow_the_config_files():
    slim, paper = load_params(profile="study"), load_params(profile="paper")
    assert ablation_detector(slim) == "faster_rcnn" and ablation_detector(paper) == "cascade_rcnn"
    assert experiment_parent(slim, "thr_measured") == "faster_rcnn_srtod"
    assert experiment_parent(slim, "faster_rcnn_long") == "faster_rcnn"
    assert resolve_experiment(slim, "thr_quantile_s2").detector == "Faster R-CNN"
    assert resolve_experiment(paper, "rh_only").detector == "Cascade R-CNN"
    assert reference_of(slim, "thr_measured") == "faster_rcnn"  # ablations: the baseline
    assert reference_of(slim, "rh_lite") == "faster_rcnn_srtod"  # reference: parent
    assert reference_of(slim, "rfla") == "cascade_rcnn"
    assert reference_of(slim, "faster_rcnn_srtod_long") is None
    assert reference_of(slim, "faster_rcnn") is None


@pytest.mark.parametrize("name", DATASET_BASES)
def test_data_set_bases_state_their_facts_on_the_shared_layout(name):
    """Each data-set base inherits the COCO layout and states its facts once; its classes are
    the catalog's; the loaders point at its facts."""
    text = (CONFIGS / "_base_" / "datasets" / f"{name}.py").read_text()
    assert "_base_ = './coco_layout.py'" in text
    base = dataset_base(name)
    if name != "coco":
        assert base.num_classes == CATALOG[name].num_classes
    for key in DATA_KEYS:
        part = base[key]
        if key.endswith("dataloader"):
            assert part.dataset.type == base.dataset_type
            assert part.dataset.data_root == base.data_root
            resize = [t for t in part.dataset.pipeline if t["type"] == "Resize"]
            assert [tuple(t["scale"]) for t in resize] == [tuple(base.image_scale)]
        else:
            assert part.ann_file.startswith(base.data_root) and part.type == "AITODMetric"


def test_no_config_imports_srtod_and_slim_configs_read_the_data_set_facts():
    for config in [*list_configs(), *(f"_base_/{p.relative_to(CONFIGS / '_base_')}"
                                      for p in (CONFIGS / "_base_").rglob("*.py"))]:
        tree = ast.parse((CONFIGS / config).read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                 or (isinstance(n, ast.Name) and n.id == "__import__")]
        assert not calls, config
    synthetic = dataset_base("synthetic")
    for config in list_configs():
        if config.endswith("_60e_synthetic-128.py") and not config.startswith("ablations/"):
            text = (CONFIGS / config).read_text()
            assert "40 / 255" not in text and "scales=[2]" not in text, config
            cfg = load_config(config)
            if "srtod" in cfg.model:
                assert cfg.model.srtod.dgfe.threshold.init == synthetic.threshold_init
            assert tuple(cfg.train_dataloader.dataset.pipeline[2]["scale"]) == (128, 128)
