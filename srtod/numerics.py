"""The numeric contract of CPU runs: the settings that decide the floating-point results of
training and evaluation, so that one commit, config and seed give the same bits on every x86-64
machine with AVX2, whatever its generation.

Each of these, flipped alone, changes the weights of a short training (the measurement:
``benchmarks/numerics_settings.py``, ``docs/results/determinism/``):

- the number of threads (a reduction split over threads adds in another order);
- ATen's vectorized kernels, picked at run time by the CPU's instruction set (``avx2`` or
  ``avx512``) unless ``ATEN_CPU_CAPABILITY`` names one;
- oneDNN's JIT convolutions, likewise (``ONEDNN_MAX_CPU_ISA`` caps them);
- MKL's BLAS code path (``MKL_CBWR``: conditional numerical reproducibility).

The contract (``SRTOD_NUMERICS=contract``, the default) fixes all four: one thread per run,
ATen's and oneDNN's AVX2 code, MKL's strict AVX2 path. Machines with AVX-512 then run the code an
AVX2 machine runs. The environment variables must be in place before torch computes anything:
importing :mod:`srtod` sets them (:func:`apply_environment`), and :func:`state` reads back what
is in force, so a record says whether its run met the contract.

``SRTOD_NUMERICS=native`` opts out: the libraries pick the fastest code for the machine and runs
use the threads asked for; results are then comparable on that machine only, and records say so.
On a GPU the contract says nothing (cuDNN picks its own algorithms); see docs/reproducibility.md.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

#: the environment variable that picks the mode
MODE_VARIABLE = "SRTOD_NUMERICS"
MODES = ("contract", "native")
#: what the contract sets, read by the libraries when they first compute
CONTRACT_ENVIRONMENT = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "AVX2,STRICT",
}
#: threads of one training or evaluation under the contract
CONTRACT_THREADS = 1
#: the ATen capability the contract needs; a CPU without it runs outside the contract
CONTRACT_CAPABILITY = "AVX2"
#: environment variables a record shows (the contract's and the thread counts)
RECORDED_ENVIRONMENT = (*CONTRACT_ENVIRONMENT, "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", MODE_VARIABLE)

#: what the caller's environment held where the contract put another value
_overridden: dict[str, str] = {}


def mode() -> str:
    """``contract`` (the default) or ``native``, from ``SRTOD_NUMERICS``."""
    value = os.environ.get(MODE_VARIABLE, "contract").strip().lower() or "contract"
    if value not in MODES:
        raise ValueError(f"{MODE_VARIABLE}={os.environ[MODE_VARIABLE]!r}: use one of "
                         f"{', '.join(MODES)}")
    return value


def apply_environment() -> None:
    """Under the contract, set its environment variables (run at ``import srtod``, before torch
    computes anything). A different value the caller had set is replaced and logged."""
    if mode() != "contract":
        return
    for key, value in CONTRACT_ENVIRONMENT.items():
        old = os.environ.get(key)
        if old is not None and old != value:
            _overridden.setdefault(key, old)
        os.environ[key] = value


def run_threads(requested: int | None = None) -> int:
    """Threads of one training or evaluation: 1 under the contract, else ``requested``
    (default: every core)."""
    if mode() == "contract":
        if requested and requested != CONTRACT_THREADS:
            log.info("numeric contract: %d thread(s) asked, %d used (%s=native for more)",
                     requested, CONTRACT_THREADS, MODE_VARIABLE)
        return CONTRACT_THREADS
    return requested or len(os.sched_getaffinity(0))


def enter_run(requested: int | None = None) -> dict:
    """Set torch's threads for a training or evaluation in this process; returns :func:`state`.
    Under the contract a run that cannot meet it (no AVX2, or torch started before srtod set the
    environment) is logged as such."""
    import torch

    torch.set_num_threads(run_threads(requested))
    current = state()
    if current["mode"] == "contract" and not current["within_contract"]:
        log.warning("this run is outside the numeric contract: %s", current["outside_because"])
    return current


def state() -> dict:
    """The numeric settings in force in this process: mode, torch's threads and kernels, the
    environment, and whether they meet the contract (with the reason when not)."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    threads = torch.get_num_threads()
    reasons = []
    if mode() != "contract":
        reasons.append(f"{MODE_VARIABLE}=native")
    else:
        if capability != CONTRACT_CAPABILITY:
            reasons.append(f"ATen runs {capability} kernels, not {CONTRACT_CAPABILITY} (no AVX2 "
                           "on this CPU, or torch computed before srtod was imported)")
        if threads != CONTRACT_THREADS:
            reasons.append(f"{threads} threads, not {CONTRACT_THREADS}")
        for key, value in CONTRACT_ENVIRONMENT.items():
            if os.environ.get(key) != value:
                reasons.append(f"{key}={os.environ.get(key)!r}, not {value!r}")
    return {
        "mode": mode(),
        "within_contract": not reasons,
        "outside_because": "; ".join(reasons) or None,
        "threads": threads,
        "aten_capability": capability,
        "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "environment": {k: os.environ.get(k) for k in RECORDED_ENVIRONMENT},
        "overridden": dict(_overridden),
    }
