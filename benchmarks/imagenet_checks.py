"""The ImageNet start's schedule and input-size checks, decided by the rules fixed before any run
(docs/results/imagenet/README.md), from the committed evaluation records.

- Schedule: 12 epochs pass when the mean test-AP gain from 12 to 18 epochs (``*_long``, paired by
  seed) is below the seed spread (sample standard deviation over the seeds at 12 epochs), for the
  baseline and SR-TOD; where they fail, 18 epochs are checked the same way against 27
  (``*_27e``). Once 256 px won, 18 -> 27 epochs is checked again at 256 px (``*_256_18e`` ->
  ``*_256_27e``).
- Input size: 256 px replaces 128 px when the baseline's mean AP gain at 256 px (paired by seed)
  is above the seed spread at 128 px.

    python benchmarks/imagenet_checks.py docs/results/imagenet/records \
        --out docs/results/imagenet/checks.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from srtod.evaluation.paired import t_interval  # noqa: E402
from srtod.stages.study import read_record  # noqa: E402

#: (check, normal-schedule experiment, compared experiment, passes when the gain is ...)
CHECKS = (("schedule: 12 -> 18 epochs", "mnv2_faster_rcnn", "mnv2_faster_rcnn_long", "below"),
          ("schedule: 12 -> 18 epochs", "mnv2_faster_rcnn_srtod", "mnv2_faster_rcnn_srtod_long",
           "below"),
          ("schedule: 18 -> 27 epochs", "mnv2_faster_rcnn_long", "mnv2_faster_rcnn_27e", "below"),
          ("schedule: 18 -> 27 epochs", "mnv2_faster_rcnn_srtod_long", "mnv2_faster_rcnn_srtod_27e",
           "below"),
          ("input size: 128 -> 256 px", "mnv2_faster_rcnn", "mnv2_faster_rcnn_256", "above"),
          ("schedule at 256 px: 18 -> 27 epochs", "mnv2_faster_rcnn_256_18e",
           "mnv2_faster_rcnn_256_27e", "below"),
          ("schedule at 256 px: 18 -> 27 epochs", "mnv2_faster_rcnn_srtod_256_18e",
           "mnv2_faster_rcnn_srtod_256_27e", "below"))
METRICS = ("AP", "APvt")


def experiment_and_seed(run: str) -> tuple[str, int]:
    """``mnv2_faster_rcnn_s2`` -> (``mnv2_faster_rcnn``, 2); seed 0 has no suffix."""
    head, _, tail = run.rpartition("_s")
    return (head, int(tail)) if head and tail.isdigit() else (run, 0)


def load(records: Path) -> dict[str, dict[int, dict]]:
    """{experiment: {seed: {metric: value, 'train s': seconds}}} of every record in ``records``."""
    out: dict[str, dict[int, dict]] = {}
    for path in sorted(records.glob("*.npz")):
        record = read_record(path)["record"]
        experiment, seed = experiment_and_seed(record["run"])
        values = {m: float(record["eval"]["metrics"][m]) for m in METRICS}
        values["train s"] = record["train"].get("train_seconds")
        out.setdefault(experiment, {})[seed] = values
    return out


def check_rows(runs: dict[str, dict[int, dict]]) -> list[dict]:
    rows = []
    for check, base, other, passes_when in CHECKS:
        seeds = sorted(set(runs.get(base, {})) & set(runs.get(other, {})))
        row = {"check": check, "experiment": base, "seeds": len(seeds)}
        if len(seeds) < 2:
            rows.append(dict(row, verdict=f"waiting ({len(seeds)} paired seeds)"))
            continue
        for m in METRICS:
            a = np.array([runs[base][s][m] for s in seeds])
            b = np.array([runs[other][s][m] for s in seeds])
            mean, low, high = t_interval(b - a)
            row[f"{m} before"], row[f"{m} after"] = float(a.mean()), float(b.mean())
            row[f"{m} gain"], row[f"{m} gain 95% CI"] = mean, f"[{low:+.1f}, {high:+.1f}]"
        spread = float(np.std([runs[base][s]["AP"] for s in sorted(runs[base])], ddof=1))
        row["AP seed spread"] = spread
        gain = row["AP gain"]
        ok = gain < spread if passes_when == "below" else gain > spread
        row["verdict"] = ((f"passes: gain {gain:+.2f} < spread {spread:.2f}" if ok else
                           f"fails: gain {gain:+.2f} >= spread {spread:.2f}")
                          if passes_when == "below" else
                          (f"256 px: gain {gain:+.2f} > spread {spread:.2f}" if ok else
                           f"128 px stays: gain {gain:+.2f} <= spread {spread:.2f}"))
        rows.append(row)
    return rows


def to_markdown(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    fmt = (lambda v: f"{v:.2f}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "| " + " | ".join("---" for _ in keys) + " |"]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, help="folder of <run>.npz evaluation records")
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args()
    runs = load(args.records)
    per_run = ["| run | seed | AP | APvt | train s |", "| --- | --- | --- | --- | --- |"]
    per_run += [f"| {e} | {s} | {v['AP']:.1f} | {v['APvt']:.1f} | {v['train s'] or ''} |"
                for e, seeds in sorted(runs.items()) for s, v in sorted(seeds.items())]
    text = to_markdown(check_rows(runs)) + "\n" + "\n".join(per_run) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
