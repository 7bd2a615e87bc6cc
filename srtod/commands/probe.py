"""``python -m srtod probe``: is this machine bitwise reproducible with the published runs?

Trains 24 steps of the default benchmark's baseline and SR-TOD configs (seed 0, 48 generated
images) under the numeric contract and prints the fingerprint of their input batches, losses and
weights, beside the reference fingerprint in ``docs/results/determinism/reference.json``. On a
difference it names the first module of the first step that computed otherwise. ``--record``
adds this machine's row to ``docs/results/determinism/machines.csv`` (to be committed);
``--update-reference`` makes this machine's result the reference (after a change of the model code
or the numerics; the published runs then need re-training, or a note why not). Exit code 1 when
a run within the contract differs from the reference.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", action="store_true",
                        help="add this machine's row to docs/results/determinism/machines.csv")
    parser.add_argument("--update-reference", action="store_true",
                        help="write this result as docs/results/determinism/reference.json")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (with SRTOD_NUMERICS=native only; the contract "
                        "trains with 1)")
    parser.add_argument("--json", help="also write the whole result (per-module hashes too) here")
    parser.add_argument("--work-dir", help="keep the probe's data and runs here (default: a "
                        "temporary folder)")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..probe import (
        MACHINES,
        REFERENCE,
        append_machine_row,
        first_difference,
        machine_row,
        read_reference,
        run_probe,
        write_reference,
    )

    result = run_probe(threads=args.threads, work_dir=Path(args.work_dir) if args.work_dir
                       else None)
    n = result["numerics"]
    if args.update_reference and not n["within_contract"]:
        print(f"error: a reference must be made within the numeric contract "
              f"({n['outside_because']})")
        return 2
    reference = read_reference()
    print(f"machine:     {result['machine_id']}")
    print(f"numerics:    {n['mode']}, {n['threads']} thread(s), ATen {n['aten_capability']}, "
          + ("within the contract" if n["within_contract"]
             else f"outside the contract ({n['outside_because']})"))
    for name, r in result["runs"].items():
        print(f"{name}: {r['steps']} steps, data {r['data']}, losses {r['losses']}, weights "
              f"{r['weights']}, final loss {r['final_loss']:.6f}, {r['seconds_per_step']} s/step")
    print(f"fingerprint: {result['fingerprint']}  ({result['seconds']} s)")
    status = 0
    if reference is None:
        print(f"reference:   none ({REFERENCE} is missing)")
    elif result["fingerprint"] == reference["fingerprint"]:
        print(f"reference:   {reference['fingerprint']}  EQUAL, bit for bit")
    else:
        where = first_difference(result, reference)
        print(f"reference:   {reference['fingerprint']}  DIFFERENT; first difference: {where}")
        if n["within_contract"]:
            status = 1
        else:
            print("             (expected: this run is outside the numeric contract)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    if args.update_reference:
        reference, status = result, 0
        print(f"reference:   written to {write_reference(result)}")
    if args.record:
        print(f"recorded:    {append_machine_row(machine_row(result, reference), MACHINES)}")
    return status
