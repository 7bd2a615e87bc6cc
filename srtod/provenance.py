"""What made a run: the machine (CPU identity, instruction sets, caches, cores), the library
versions, the numeric settings in force and the source tree (commit, clean or not). Checkpoints,
training summaries, evaluation records and the determinism probe carry it."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .paths import ROOT

#: instruction-set flags that decide which kernels the libraries pick (/proc/cpuinfo names)
ISA_FLAGS = re.compile(r"^(sse4_1|sse4_2|avx|avx2|fma|f16c|avx512\w*|avx_vnni\w*|amx\w*)$")
#: packages whose versions a record names
PACKAGES = ("torch", "torchvision", "mmcv", "mmdet", "mmengine", "numpy", "opencv-python",
            "opencv-python-headless", "pycocotools")


@lru_cache(maxsize=1)
def machine() -> dict:
    """The CPU and machine this process runs on (Linux's /proc and /sys; fewer fields
    elsewhere)."""
    info: dict = {"arch": platform.machine(), "cores": len(os.sched_getaffinity(0))
                  if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                  "node": platform.node()}
    cpuinfo = Path("/proc/cpuinfo")
    fields = {}
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if not line.strip():
                break  # the first processor's block
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    info["cpu"] = fields.get("model name", platform.processor())
    info["vendor"] = fields.get("vendor_id")
    for key in ("cpu family", "model", "stepping", "microcode"):
        info[key.replace("cpu ", "")] = fields.get(key)
    info["isa"] = sorted(f for f in fields.get("flags", "").split() if ISA_FLAGS.match(f))
    info["hypervisor"] = "hypervisor" in fields.get("flags", "").split()
    info["caches"] = _caches()
    return info


def _caches() -> dict[str, str]:
    """``{L1d: '32K', L2: '512K', L3: '16384K', ...}`` of cpu0 (sysfs)."""
    out = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(kind, "")
        out[name] = size
    return out


def widest_isa(info: dict) -> str:
    """``avx512``, ``avx2`` or ``no-avx2``: the widest vector ISA of :func:`machine`'s flags."""
    return ("avx512" if any(f.startswith("avx512") for f in info["isa"])
            else "avx2" if "avx2" in info["isa"] else "no-avx2")


def machine_id(info: dict | None = None) -> str:
    """A short name of a kind of CPU: model name, family/model/stepping, its widest vector ISA
    and cache sizes (the machine's host name is not part of it)."""
    info = info or machine()
    widest = widest_isa(info)
    caches = "/".join(f"{k}={v}" for k, v in info["caches"].items() if k in ("L2", "L3"))
    return (f"{info['cpu']} (family {info.get('family')} model {info.get('model')} stepping "
            f"{info.get('stepping')}, {widest}, {caches}, {info['cores']} cores)")


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Installed versions of the packages that decide results (those present)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def source(root: Path = ROOT) -> dict:
    """The source tree: its commit and whether tracked files differ from it (``dvc.lock`` and
    the published results, which runs rewrite, not counted)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "clean": None}
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)dvc.lock", ":(exclude)docs/results")
    return {"commit": commit, "clean": not changed}


def provenance() -> dict:
    """Everything above and the numeric settings in force (:func:`srtod.numerics.state`)."""
    from .numerics import state

    return {"machine": machine(), "machine_id": machine_id(), "versions": versions(),
            "numerics": state(), "source": source()}


def file_sha256(path: Path) -> str:
    """SHA-256 (64 hex digits) of one file, read in 1 MiB pieces: weights, annotations, wheels."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_fingerprint(folder: Path) -> str | None:
    """SHA-256 (16 hex digits) of every file under ``folder`` (relative paths and bytes, links
    followed); None when it does not exist. The prepared data of a run."""
    import hashlib

    folder = Path(folder)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
