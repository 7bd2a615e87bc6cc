"""The default benchmark's runs re-trained under the numeric contract, beside the runs published at
79d673f (same configs and seeds, trained before the contract on another machine): per run, the
metrics of both and the commit, machine and numeric settings that trained the new one.

    python benchmarks/republished_vs_published.py docs/results/default/records
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from srtod.stages.study import read_record  # noqa: E402

PUBLISHED = ROOT / "docs" / "results" / "threshold_study" / "published_79d673f" / "all_metrics.json"
METRICS = ("AP", "AP50", "AP75", "APvt", "APt", "ARvt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, help="folder of <run>.npz evaluation records")
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args()
    published = json.loads(PUBLISHED.read_text())
    lines = ["| run | " + " | ".join(f"{m} new (79d673f)" for m in METRICS)
             + " | trained at | machine | within the contract | step s (all sittings) |",
             "| --- | " + " | ".join("---" for _ in METRICS) + " | --- | --- | --- | --- |"]
    for path in sorted(args.records.glob("*.npz")):
        record = read_record(path)["record"]
        run, metrics, train = record["run"], record["eval"]["metrics"], record["train"]
        sittings = train.get("provenance") or [{}]
        old = published.get(run, {})
        cells = [f"{metrics[m]:.1f} ({old[m]:.1f})" if m in old else f"{metrics[m]:.1f}"
                 for m in METRICS]
        contract = all(s.get("numerics", {}).get("within_contract") for s in sittings)
        lines.append(f"| {run} | " + " | ".join(cells) + " | "
                     f"{(sittings[0].get('source') or {}).get('commit', '?')[:10]} | "
                     f"{sittings[0].get('machine_id', '?')} | {'yes' if contract else 'no'} | "
                     f"{train.get('step_seconds')} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
