"""Dump the resolved config of every run of every profile of params.yaml, one json each, and the
training fingerprint of each (``srtod.config.config_fingerprint``): run it before and after a
change to the configs or to params.yaml and diff the two folders.

    python scripts/dump_configs.py /tmp/before   # ... change ...
    python scripts/dump_configs.py /tmp/after && diff -r /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from srtod.config import config_fingerprint, portable_paths
from srtod.stages.params import experiment_config, load_params, profile_runs, resolve_experiment


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder for <profile>__<run>.json and fingerprints.json")
    ap.add_argument("--profiles", nargs="+", default=None, help="default: every profile")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    profiles = args.profiles or list(load_params()["profiles"])
    fingerprints = {}
    for profile in profiles:
        params = load_params(profile=profile)
        for run in profile_runs(params["active"]):
            cfg = experiment_config(resolve_experiment(params, run))
            (args.out / f"{profile}__{run}.json").write_text(
                json.dumps(portable_paths(cfg.to_dict()), sort_keys=True, indent=1, default=str))
            fingerprints[f"{profile}/{run}"] = config_fingerprint(cfg)
    (args.out / "fingerprints.json").write_text(json.dumps(fingerprints, indent=1, sort_keys=True))
    print(f"{len(fingerprints)} runs of {len(profiles)} profiles -> {args.out}")


if __name__ == "__main__":
    main()
