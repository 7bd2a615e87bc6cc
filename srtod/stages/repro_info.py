"""What ``make repro`` prints: up front, how long the profile's last published run took; while the
runs train, epochs and runs done with an estimate of the time left; at the end, where the tables
and figures are. Reads params.yaml and the runs' checkpoints only.

``python -m srtod.stages.repro_info start | watch SECONDS | end [PROFILE]``
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ..execution.local import epochs_done
from ..paths import DOCS_RESULTS, FIGURES, TABLES, WORK_DIRS, output_dir
from .params import load_params, max_epochs, profile_runs


def _rel(path: Path) -> str:
    return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)


def _hm(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


class Progress:
    """The epochs a profile's runs train and how many are done (their checkpoints)."""

    def __init__(self, params: dict) -> None:
        self.name = params["profile"]
        self.runs = profile_runs(params["active"])
        self.total = {r: max_epochs(params, r) for r in self.runs}

    def done(self) -> dict[str, int]:
        return {r: min(epochs_done(WORK_DIRS / r), self.total[r]) for r in self.runs}


def start(p: Progress) -> None:
    done, prov = p.done(), DOCS_RESULTS / p.name / "provenance.json"
    last = json.loads(prov.read_text()) if prov.is_file() else {}
    print(f"make repro: profile '{p.name}' of params.yaml, {len(p.runs)} runs, "
          f"{sum(p.total.values())} epochs ({sum(done.values())} already trained).")
    if sum(done.values()) >= sum(p.total.values()):
        print("  Every run is trained: DVC re-runs only the stages whose inputs changed.")
    elif last.get("wall_seconds"):
        print(f"  Its last published run took {_hm(last['wall_seconds'])} from a fresh clone "
              f"({last.get('machine', 'machine not recorded')}); machines of this kind differ "
              f"by up to 1.7x in training speed. Trained epochs are not trained again.")
    else:
        print("  No published run of this profile records its wall time yet.")
    print(f"  DVC names each stage as it starts; each run logs to {_rel(WORK_DIRS / 'logs')}/"
          "<run>.log.")
    print(f"  The tables will be in {_rel(TABLES)}/, the figures in "
          f"{_rel(FIGURES)}/.", flush=True)


def watch(p: Progress, seconds: float) -> None:
    first, t0, left = sum(p.done().values()), time.time(), sum(p.total.values())
    try:
        n = first
        while n < left:
            time.sleep(seconds)
            done = p.done()
            n, finished = sum(done.values()), sum(done[r] >= p.total[r] for r in p.runs)
            rate = (n - first) / (time.time() - t0)
            eta = f", about {_hm((left - n) / rate)} of training left" if rate > 0 else ""
            print(f"[repro {time.strftime('%H:%M')}] training: {n}/{left} epochs, "
                  f"{finished}/{len(p.runs)} runs done{eta}", flush=True)
    except KeyboardInterrupt:
        pass


def end(p: Progress, publish_hint: bool = True) -> None:
    print(f"Results of profile '{p.name}':")
    print(f"  tables   {_rel(TABLES)}/  (compare.md: each method against its "
          "baseline, with intervals)")
    print(f"  figures  {_rel(FIGURES)}/")
    print(f"  per run  {_rel(output_dir('eval'))}/<run>/, checkpoints in {_rel(WORK_DIRS)}/<run>/")
    if publish_hint:
        print("  `dvc metrics show` prints the metrics; `make publish` copies the tables and key "
              f"figures to docs/results/{p.name}/.")


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else ""
    if mode not in ("start", "watch", "end"):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    profile = argv[1] if mode == "end" and len(argv) > 1 else None
    progress = Progress(load_params(profile=profile))
    if mode == "start":
        start(progress)
    elif mode == "watch":
        watch(progress, float(argv[1]) if len(argv) > 1 else 300)
    else:
        end(progress, publish_hint=profile is None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
