"""Read ``params.yaml``: the active profile and the experiments it runs.

An experiment is resolved to a config path plus overrides: ``base`` chains are followed
(``base: ablation`` means the SR-TOD config of the profile's ``ablation_detector``), options are
merged base first, and the profile's training settings are applied last. ``seed`` and
``epochs_scale`` (the profile's ``max_epochs`` times this; the LR schedule stretches with it) are
inherited along the chain too.

A config entry may name one config per data set: ``{data}`` stands for the profile's ``data.name``
and ``*`` for what the data set's config chooses itself (its schedule, e.g. ``20e`` or ``12e``); the
pattern must match exactly one file under ``srtod/configs`` (:func:`resolve_config_pattern`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..paths import CONFIGS, PREPARED, ROOT, WORK_DIRS, run_dir

SEED_SUFFIX = re.compile(r"^(?P<base>.+)_s(?P<seed>[1-9][0-9]*)$")


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


def _train_options(train: dict, epochs_scale: float = 1.0) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if train.get("max_epochs"):
        options["train_cfg.max_epochs"] = max(1, round(train["max_epochs"] * epochs_scale))
    if train.get("val_interval"):
        options["train_cfg.val_interval"] = train["val_interval"]
    if train.get("batch_size"):
        options["train_dataloader.batch_size"] = train["batch_size"]
    if train.get("lr"):
        options["optim_wrapper.optimizer.lr"] = train["lr"]
    return options


def resolve_config_pattern(pattern: str, data: str) -> str:
    """The config named by ``pattern`` for data set ``data`` (a path relative to ``srtod/configs``):
    ``{data}`` is replaced by ``data`` and ``*`` matches the data set's own choice (its schedule).
    A pattern without either is returned as it is."""
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


def resolve_experiment(params: dict, name: str) -> Experiment:
    """Config, overrides and seed of run ``name`` (an experiment, or ``<experiment>_s<seed>``)
    under the active profile."""
    experiments, active = params["experiments"], params["active"]
    group, seed_override = name, None
    match = SEED_SUFFIX.match(name)
    if name not in experiments and match and match["base"] in experiments:
        group, seed_override = match["base"], int(match["seed"])
    if group not in experiments:
        raise KeyError(f"params.yaml: no experiment {name!r} (known: {sorted(experiments)}, "
                       "each also as <name>_s<seed>)")
    chain, current, seen = [], group, set()
    while True:
        if current in seen:
            raise ValueError(f"params.yaml: experiments.{name}: circular 'base' chain {chain}")
        seen.add(current)
        spec = experiments[current]
        chain.append(spec)
        base = spec.get("base")
        if base is None:
            break
        current = f"{active['ablation_detector']}_srtod" if base == "ablation" else base
    root = chain[-1]
    config = resolve_config_pattern(root["config"][active["model"]], active["data"]["name"])
    options: dict[str, Any] = {}
    seed, epochs_scale = 0, 1.0
    for spec in reversed(chain):
        options.update(spec.get("options") or {})
        seed = spec.get("seed", seed)
        epochs_scale = spec.get("epochs_scale", epochs_scale)
    options.update(_train_options(active.get("train") or {}, epochs_scale))
    seed = seed if seed_override is None else seed_override
    options["randomness.seed"] = seed
    return Experiment(name=name, detector=root["detector"], config=config, options=options,
                      seed=seed, srtod=Path(config).name.startswith("srtod_"),
                      enabled=name in profile_runs(active), group=group)


def experiment_config(params: dict, exp: Experiment):
    """The mmengine config of ``exp`` under the active profile (data set, root, size, options)."""
    from ..config import load_config

    data = params["active"]["data"]
    return load_config(exp.config, dataset=data["name"], data_root=PREPARED,
                       image_size=data.get("image_size"), options=exp.options)


def trained(params: dict, name: str):
    """(config, checkpoint) of run ``name`` as the train stage left it (``checkpoint`` in its
    ``summary.json``, relative to the workspace); None when it was not trained in this workspace
    (no summary, skipped, or no checkpoint)."""
    path = run_dir("train", name) / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    if not summary.get("enabled") or not summary.get("checkpoint"):
        return None
    return (experiment_config(params, resolve_experiment(params, name)),
            WORK_DIRS.parent / summary["checkpoint"])
