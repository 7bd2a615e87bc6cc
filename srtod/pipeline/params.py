"""Read ``params.yaml``: the active profile and the experiments it runs.

An experiment is resolved to a config path plus overrides: ``base`` chains are followed
(``base: ablation`` means the SR-TOD config of the profile's ``ablation_detector``), options are
merged base first, and the profile's training settings are applied last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..paths import ROOT

PROFILES = ("smoke", "default", "paper")


@dataclass
class Experiment:
    name: str
    detector: str
    config: str
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    srtod: bool = False
    enabled: bool = True


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
    unknown = set(params["active"].get("run", [])) - set(params.get("experiments", {}))
    if unknown:
        raise ValueError(f"{path}: profiles.{profile}.run names unknown experiments "
                         f"{sorted(unknown)}")
    return params


def _train_options(train: dict) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if train.get("max_epochs"):
        options["train_cfg.max_epochs"] = train["max_epochs"]
    if train.get("batch_size"):
        options["train_dataloader.batch_size"] = train["batch_size"]
    if train.get("lr"):
        options["optim_wrapper.optimizer.lr"] = train["lr"]
    return options


def resolve_experiment(params: dict, name: str) -> Experiment:
    """Config, overrides and seed of experiment ``name`` under the active profile."""
    experiments, active = params["experiments"], params["active"]
    if name not in experiments:
        raise KeyError(f"params.yaml: no experiment {name!r} (known: {sorted(experiments)})")
    chain, current, seen = [], name, set()
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
    config = root["config"][active["model"]]
    options: dict[str, Any] = {}
    seed = 0
    for spec in reversed(chain):
        options.update(spec.get("options") or {})
        seed = spec.get("seed", seed)
    options.update(_train_options(active.get("train") or {}))
    options["randomness.seed"] = seed
    return Experiment(name=name, detector=root["detector"], config=config, options=options,
                      seed=seed, srtod=Path(config).name.startswith("srtod_"),
                      enabled=name in active.get("run", []))
