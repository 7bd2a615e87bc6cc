"""The 1.5x convergence check against a published default: the ``full`` profile's ``*_long`` runs
evaluated here, the normal-schedule runs' metrics from a published ``all_metrics.json``.

    python benchmarks/convergence_vs_published.py docs/results/default/all_metrics.json results \\
        docs/results/convergence/convergence_60_90.md

The normal-schedule runs need not be trained again: uninterrupted runs of one config, seed and data
end bitwise equal across clones on this machine kind (docs/results/convergence/README.md), so the
published default's metrics are those runs' metrics. Only the longer runs evaluated in ``results``
(``pipeline evaluate <runs> --profile full``) get a row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from srtod.stages.markdown import TITLES, to_markdown
from srtod.stages.params import load_params
from srtod.stages.tables import convergence_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path, help="all_metrics.json of the normal schedule")
    parser.add_argument("results", type=Path, help="results folder holding eval/<run>/metrics.json")
    parser.add_argument("out", type=Path, help="markdown table to write")
    args = parser.parse_args()
    reference = json.loads(args.published.read_text())
    provenance = args.published.with_name("provenance.json")
    source = json.loads(provenance.read_text()).get("commit") if provenance.is_file() else None
    table = convergence_table(load_params(profile="full"), args.results, reference=reference)
    if table.empty:
        raise SystemExit(f"no evaluated *_long run in {args.results / 'eval'}")
    text = (f"Normal schedule: {args.published}{f' (commit {source})' if source else ''}; "
            f"longer runs: {args.results}.\n\n{to_markdown(table, TITLES['convergence'])}")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
