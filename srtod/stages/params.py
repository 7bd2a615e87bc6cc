"""Read ``params.yaml``: the active profile, the runs it trains and the config file of each.

``params.yaml`` only picks: a run is a config file under ``srtod/configs`` (``experiments.<name>.
config.<model size>``) at a seed. What the pipeline adds is the data root (the prepared data), the
seed (``<name>_s<k>``: seed k) and, for the ``smoke`` profile only, its declared ``cfg_options``.

A config entry may name one config per data set: ``{data}`` stands for the profile's ``data.name``
and ``*`` for what the data set's config chooses itself (its schedule, e.g. ``20e`` or ``12e``); the
pattern must match exactly one file under ``srtod/configs`` (:func:`resolve_config_pattern`).

How runs relate (for the tables) is read from the configs too: an ablation's config inherits its
parent's (:func:`parent_config`), so its detector, the ablation detector and what it is compared
with follow from the files.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..paths import CONFIGS, PREPARED, ROOT, WORK_DIRS, run_dir

SEED_SUFFIX = re.compile(r"^(?P<base>.+)_s(?P<seed>[1-9][0-9]*)$")
LONG_SUFFIX = "_long"  # <run>_long: <run> trained longer (the convergence check)


@dataclass
class Experiment:
    """One training run: an experiment of ``params.yaml`` at one seed (``<name>_s<k>``, k > 0)."""

    name: str
    detector: str
    config: str
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    srtod: bool = False
    enabled: bool = True
    group: str = ""  # the experiment without its seed suffix
    profile: str = ""  # the profile that resolved it
    dataset: str = "synthetic"  # the profile's data.name: the data set of a ``{data}`` config


def seed_run_name(experiment: str, seed: int) -> str:
    """The run of ``experiment`` at ``seed``: the name itself for seed 0, else ``<name>_s<seed>``."""
    return experiment if seed == 0 else f"{experiment}_s{seed}"


def profile_groups(active: dict) -> dict[str, dict[int, str]]:
    """A profile's runs by experiment and seed, ``{experiment: {seed: run}}``: ``run`` maps an
    experiment to its number of seeds (0, 1, ...), or lists experiments that run once (seed 0)."""
    run = active.get("run") or []
    counts = run if isinstance(run, dict) else {name: 1 for name in run}
    return {name: {k: seed_run_name(name, k) for k in range(int(n))}
            for name, n in counts.items() if int(n) > 0}


def profile_runs(active: dict) -> list[str]:
    """Every run of a profile, seeds included (see :func:`profile_groups`)."""
    return [run for runs in profile_groups(active).values() for run in runs.values()]


def load_params(path: str | Path = ROOT / "params.yaml", profile: str | None = None) -> dict:
    """The params file with ``profile`` (default: its ``profile`` key) resolved under ``active``."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from err
    profile = profile or params.get("profile")
    if profile not in params.get("profiles", {}):
        raise ValueError(f"{path}: profile {profile!r} is not one of "
                         f"{sorted(params.get('profiles', {}))} (key 'profile')")
    params["profile"] = profile
    params["active"] = params["profiles"][profile]
    unknown = set(params["active"].get("run") or []) - set(params.get("experiments", {}))
    if unknown:
        raise ValueError(f"{path}: profiles.{profile}.run names unknown experiments "
                         f"{sorted(unknown)}")
    return params


@cache
def resolve_config_pattern(pattern: str, data: str) -> str:
    """The config named by ``pattern`` for data set ``data`` (a path relative to ``srtod/configs``):
    ``{data}`` is replaced by ``data`` and ``*`` matches the data set's own choice (its schedule).
    A pattern without either is returned as it is. (Cached: the relations between runs ask for
    every experiment's config many times.)"""
    if "{data}" not in pattern and "*" not in pattern:
        return pattern
    name = pattern.replace("{data}", data)
    matches = sorted(str(p.relative_to(CONFIGS)) for p in CONFIGS.glob(name))
    if len(matches) != 1:
        known = sorted(p.stem.rsplit("_", 1)[-1]
                       for p in CONFIGS.glob(pattern.replace("{data}", "*")))
        raise ValueError(
            f"params.yaml: config {pattern!r} for data set {data!r} matches "
            f"{matches or 'no config'}; the data sets with a config of this pattern: {known}")
    return matches[0]


def experiment_config_path(params: dict, group: str) -> str | None:
    """The config of experiment ``group`` under the active profile's model size (relative to
    ``srtod/configs``); None when the experiment has no config of that size."""
    active = params["active"]
    pattern = params["experiments"][group]["config"].get(active["model"])
    return None if pattern is None else resolve_config_pattern(pattern, active["data"]["name"])


@cache
def parent_config(config: str) -> str | None:
    """The config that ``config`` inherits when its ``_base_`` is one file of ``srtod/configs``
    (a run's parent: an ablation's SR-TOD detector, a longer schedule's run), relative to
    ``srtod/configs``; None for a config built from several bases."""
    path = CONFIGS / config
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_base_"
                                                 for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                parent = (path.parent / node.value.value).resolve()
                if parent.is_relative_to(CONFIGS.resolve()):
                    return str(parent.relative_to(CONFIGS.resolve()))
            return None
    return None


def experiment_parent(params: dict, group: str) -> str | None:
    """The experiment whose config ``group``'s config inherits (same model size), if any."""
    config = experiment_config_path(params, group)
    parent = parent_config(config) if config else None
    if parent is None:
        return None
    for name in params["experiments"]:
        if name != group and experiment_config_path(params, name) == parent:
            return name
    return None


def detector_of(params: dict, group: str) -> str:
    """The detector (a Tab. 1 row) that ``group`` trains: its own ``detector``, else its parent's."""
    seen = []
    while group is not None and group not in seen:
        spec = params["experiments"][group]
        if spec.get("detector"):
            return spec["detector"]
        seen.append(group)
        group = experiment_parent(params, group)
    raise ValueError(f"params.yaml: experiments.{seen[0]} names no detector and its config "
                     "inherits no other experiment's")


def ablation_detector(params: dict) -> str:
    """The experiment (without SR-TOD) of the detector the active profile ablates: the one whose
    SR-TOD config ``rh_only``'s config inherits (Faster R-CNN on the slim configs, Cascade R-CNN
    on the paper's)."""
    parent = experiment_parent(params, "rh_only")
    if parent is None or not parent.endswith("_srtod"):
        raise ValueError("params.yaml: experiments.rh_only's config inherits no experiment's "
                         "SR-TOD config")
    return parent[: -len("_srtod")]


def is_srtod(config: str) -> bool:
    """Whether a config trains SR-TOD: its file name says so (``srtod_<detector>`` or an
    ablation ``<change>_srtod_<detector>``)."""
    return Path(config).name.startswith("srtod_") or "_srtod_" in Path(config).name


def spec_is_srtod(spec: dict) -> bool:
    """Whether an experiment of ``params.yaml`` trains SR-TOD (its configs' names, every size alike)."""
    return is_srtod(next(iter(spec["config"].values())))


def resolve_experiment(params: dict, name: str) -> Experiment:
    """Config, overrides and seed of run ``name`` (an experiment, or ``<experiment>_s<seed>``)
    under the active profile."""
    experiments, active = params["experiments"], params["active"]
    group, seed = name, 0
    match = SEED_SUFFIX.match(name)
    if name not in experiments and match and match["base"] in experiments:
        group, seed = match["base"], int(match["seed"])
    if group not in experiments:
        raise KeyError(f"params.yaml: no experiment {name!r} (known: {sorted(experiments)}, "
                       "each also as <name>_s<seed>)")
    config = experiment_config_path(params, group)
    if config is None:
        raise ValueError(f"params.yaml: experiments.{group} has no {active['model']!r} config "
                         f"(profile {params['profile']!r})")
    options = {**(active.get("cfg_options") or {}), "randomness.seed": seed}
    return Experiment(name=name, detector=detector_of(params, group), config=config,
                      options=options, seed=seed, srtod=is_srtod(config),
                      enabled=name in profile_runs(active), group=group,
                      profile=params["profile"], dataset=active["data"]["name"])


def experiment_config(exp: Experiment):
    """The mmengine config of run ``exp``: its file, pointed at the prepared data (its profile's
    ``data.name`` selects the data set of a ``{data}`` config), with the seed."""
    from ..config import load_config

    return load_config(exp.config, dataset=exp.dataset, data_root=PREPARED, options=exp.options)


def max_epochs(params: dict, name: str) -> int:
    """The epochs run ``name`` trains (its config's, after the profile's ``cfg_options``)."""
    return int(experiment_config(resolve_experiment(params, name)).train_cfg.max_epochs)


def synthetic_image_size(params: dict) -> int | None:
    """The size of the frames the prepare stage generates for the synthetic set: the input size of
    its config base (``_base_/datasets/synthetic.py``); None for another data set."""
    from ..config import dataset_base

    if params["active"]["data"]["name"] != "synthetic":
        return None
    return int(max(dataset_base("synthetic").image_scale))


def trained(exp: Experiment):
    """(config, checkpoint) of run ``exp`` as the train stage left it (``checkpoint`` in its
    ``summary.json``, relative to the workspace); None when it was not trained in this workspace
    (no summary, skipped, or no checkpoint)."""
    path = run_dir("train", exp.name) / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    if not summary.get("enabled") or not summary.get("checkpoint"):
        return None
    return experiment_config(exp), WORK_DIRS.parent / summary["checkpoint"]
