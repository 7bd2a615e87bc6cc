"""Which settings change the bits of a training: the determinism probe (srtod/probe.py, 24 steps of
the default's baseline and SR-TOD) under the numeric contract, and under the contract with one
setting flipped at a time. A row whose fingerprint equals the contract's did not change anything
on this machine; one that differs names the first module of the first step that computed
otherwise. The rows are fixed here, before any ran.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/numerics_settings.py --jobs 2 \
        --out docs/results/determinism/settings

Then the cost of the contract in training speed: ``--pairs N`` runs the probe N times under the
contract and under native numerics (1 thread each), interleaved, one at a time, and reports the
ratio of seconds per step (median of the pairs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srtod.numerics import CONTRACT_ENVIRONMENT, MODE_VARIABLE  # noqa: E402

#: (row, environment changes against the contract (None: unset), threads, code run before)
ROWS = (
    ("the contract", {}, 1, ""),
    ("the contract, again", {}, 1, ""),
    ("2 threads", {}, 2, ""),
    ("ATen: default (no vector ISA)", {"ATEN_CPU_CAPABILITY": "default"}, 1, ""),
    ("ATen: the machine's choice", {"ATEN_CPU_CAPABILITY": None}, 1, ""),
    ("oneDNN: SSE4.1", {"ONEDNN_MAX_CPU_ISA": "SSE41"}, 1, ""),
    ("oneDNN: the machine's choice", {"ONEDNN_MAX_CPU_ISA": None}, 1, ""),
    ("MKL: COMPATIBLE path", {"MKL_CBWR": "COMPATIBLE"}, 1, ""),
    ("MKL: AVX2 without STRICT", {"MKL_CBWR": "AVX2"}, 1, ""),
    ("MKL: the machine's choice", {"MKL_CBWR": None}, 1, ""),
    ("all three: the machine's choice (native, 1 thread)",
     {k: None for k in CONTRACT_ENVIRONMENT}, 1, ""),
    ("oneDNN off (torch.backends.mkldnn.enabled = False)", {}, 1,
     "import torch; torch.backends.mkldnn.enabled = False"),
    ("torch.use_deterministic_algorithms(True)", {}, 1,
     "import torch; torch.use_deterministic_algorithms(True)"),
    ("OpenCV without its optimized code (cv2.setUseOptimized(False))", {}, 1,
     "import cv2; cv2.setUseOptimized(False)"),
)

SNIPPET = """
import json, sys
import srtod
{pre}
from srtod.probe import run_probe
result = run_probe(threads={threads})
with open(sys.argv[1], "w") as f:
    json.dump(result, f)
"""


def environment(changes: dict) -> dict:
    """The contract's environment with ``changes``, under native mode (srtod leaves it as is)."""
    env = {k: v for k, v in os.environ.items() if k not in CONTRACT_ENVIRONMENT}
    env.update(CONTRACT_ENVIRONMENT)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env[MODE_VARIABLE] = "native"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def run_row(changes: dict, threads: int, pre: str, contract_mode: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = environment(changes)
        if contract_mode:
            env[MODE_VARIABLE] = "contract"
        subprocess.run([sys.executable, "-c", SNIPPET.format(pre=pre, threads=threads), str(out)],
                       env=env, check=True, capture_output=True, text=True)
        return json.loads(out.read_text())


def seconds_per_step(result: dict) -> float:
    return sum(r["seconds_per_step"] for r in result["runs"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="rows run side by side")
    parser.add_argument("--pairs", type=int, default=0,
                        help="interleaved contract/native pairs for the speed ratio")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.md and OUT.json")
    args = parser.parse_args()
    from srtod.probe import first_difference
    from srtod.provenance import machine_id

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda row: run_row(row[1], row[2], row[3], not row[1]
                                                    and not row[3] and row[2] == 1), ROWS))
    contract = results[0]
    rows = []
    for (label, changes, threads, pre), result in zip(ROWS, results, strict=True):
        same = result["fingerprint"] == contract["fingerprint"]
        rows.append({"row": label, "environment": {k: v for k, v in changes.items()},
                     "threads": threads, "code": pre, "fingerprint": result["fingerprint"],
                     "aten_capability": result["numerics"]["aten_capability"],
                     "same_as_contract": same,
                     "first_difference": None if same else first_difference(result, contract),
                     "seconds_per_step": round(seconds_per_step(result), 3)})
    speed = None
    if args.pairs:
        ratios, timings = [], []
        for _ in range(args.pairs):
            c = seconds_per_step(run_row({}, 1, "", contract_mode=True))
            n = seconds_per_step(run_row({k: None for k in CONTRACT_ENVIRONMENT}, 1, ""))
            timings.append({"contract": round(c, 4), "native": round(n, 4)})
            ratios.append(c / n)
        speed = {"pairs": timings, "contract_over_native": round(statistics.median(ratios), 3)}
    report = {"machine": machine_id(), "command": "python benchmarks/numerics_settings.py "
              + " ".join(sys.argv[1:]), "rows": rows, "speed": speed,
              "commit": contract["source"]["commit"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [f"# What changes the bits: {machine_id()}", "",
             f"`{report['command']}` at commit `{(report['commit'] or '')[:10]}`. The determinism "
             "probe (24 steps of the default's baseline and SR-TOD, seed 0) under the numeric "
             "contract, then with one setting flipped at a time. Seconds per step: the two runs' "
             "steps added, rows run side by side (compare only the speed pairs below).", "",
             "| row | threads | ATen ISA | fingerprint | same bits as the contract | first "
             "difference | s/step |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['row']} | {r['threads']} | {r['aten_capability']} | "
                     f"`{r['fingerprint']}` | {'yes' if r['same_as_contract'] else 'no'} | "
                     f"{r['first_difference'] or ''} | {r['seconds_per_step']} |")
    if speed:
        lines += ["", f"Speed, one run at a time, interleaved: contract / native seconds per step "
                  f"= {speed['contract_over_native']} (median of {args.pairs} pairs: "
                  + ", ".join(f"{p['contract']} / {p['native']}" for p in speed["pairs"]) + ")."]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
