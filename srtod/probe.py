"""The determinism probe: a few dozen training steps of the default benchmark's two configs (the
baseline and SR-TOD) from a fixed seed on generated images, and a fingerprint of what they
produce: the input batches, the losses of every step and the final weights. Two machines that
print the same fingerprint trained bit for bit the same; where they differ, the per-module hashes
of the first step's forward pass name the first operation that computed otherwise.

``python -m srtod probe`` runs it; ``docs/results/determinism/`` keeps the reference fingerprint
(what HEAD must give under the numeric contract) and one row per machine seen.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .paths import DOCS_RESULTS

#: the default profile's runs the probe trains (params.yaml: profiles.default.run)
PROBE_RUNS = ("faster_rcnn", "faster_rcnn_srtod")
PROBE_IMAGES = 48
PROBE_EPOCHS = 2  # 48 images at batch 4: 24 steps
PROBE_SEED = 0
DETERMINISM = DOCS_RESULTS / "determinism"
REFERENCE = DETERMINISM / "reference.json"
MACHINES = DETERMINISM / "machines.csv"
MACHINE_COLUMNS = ("date", "machine", "isa", "caches", "mode", "within_contract",
                   "aten_capability", "threads", "fingerprint", "matches_reference", "commit",
                   "torch", "seconds")


def tensor_digest(value, digest=None):
    """SHA-256 over every tensor in ``value`` (tensors, mmengine data elements, lists, tuples,
    dicts), in logical order."""
    import torch

    digest = digest or hashlib.sha256()
    if torch.is_tensor(value):
        t = value.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        digest.update((t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            tensor_digest(value[key], digest)
    elif isinstance(value, (list, tuple)):
        for item in value:
            tensor_digest(item, digest)
    elif hasattr(value, "to_dict"):  # mmengine's InstanceData / DetDataSample
        tensor_digest(value.to_dict(), digest)
    return digest


def _short(digest) -> str:
    return digest.hexdigest()[:16]


def _probe_hook_class():
    from mmengine.hooks import Hook

    class ProbeHook(Hook):
        """Hashes the input batches, each step's losses and the first step's per-module outputs."""

        priority = "VERY_HIGH"

        def __init__(self) -> None:
            self.batches = hashlib.sha256()
            self.losses = hashlib.sha256()
            self.loss_values: list[float] = []
            self.first_step: list[list[str]] = []
            self._handles: list = []
            self._start = None
            self.seconds = None

        def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
            tensor_digest(data_batch, self.batches)
            if runner.iter == 1:
                self._start = time.perf_counter()  # steps after the first (warm-up) are timed
            if runner.iter != 0:
                return
            model = runner.model.module if hasattr(runner.model, "module") else runner.model
            calls: dict[str, int] = {}

            def record(name):
                def hook(module, args, output):
                    calls[name] = calls.get(name, 0) + 1
                    label = name if calls[name] == 1 else f"{name}#{calls[name]}"
                    self.first_step.append([label, _short(tensor_digest(output))])
                return hook

            self._handles = [m.register_forward_hook(record(n or "model"))
                             for n, m in model.named_modules()]

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            import torch

            for handle in self._handles:
                handle.remove()
            self._handles = []
            for key in sorted(outputs or {}):
                value = outputs[key]
                if torch.is_tensor(value):
                    self.losses.update(key.encode())
                    tensor_digest(value, self.losses)
            if outputs and "loss" in outputs:
                self.loss_values.append(float(outputs["loss"]))

        def after_train(self, runner) -> None:
            if self._start is not None:
                self.seconds = time.perf_counter() - self._start

    return ProbeHook


def probe_data(root: Path) -> Path:
    """The probe's images: ``PROBE_IMAGES`` generated training frames at the default's size,
    seed 0; written once under ``root``."""
    from .data.synthetic import generate_dataset
    from .stages.params import load_params, synthetic_image_size

    data = root / "data"
    if not (data / "annotations" / "train.json").is_file():
        size = synthetic_image_size(load_params(profile="default"))
        generate_dataset(data, num_images={"train": PROBE_IMAGES}, image_size=size,
                         seed=PROBE_SEED, progress=False)
    return data


def probe_run(name: str, data: Path, work_dir: Path, threads: int | None = None) -> dict:
    """Train run ``name`` of the default profile for ``PROBE_EPOCHS`` epochs on ``data``;
    returns its hashes (data, losses, weights, first step per module) and timing."""
    from .config import load_config
    from .engine.hooks import weights_fingerprint
    from .engine.runner import train
    from .stages.params import load_params, resolve_experiment

    exp = resolve_experiment(load_params(profile="default"), name)
    cfg = load_config(exp.config, dataset=exp.dataset, data_root=data,
                      options={**exp.options, "randomness.seed": PROBE_SEED,
                               "train_cfg.max_epochs": PROBE_EPOCHS,
                               "log_level": "WARNING"})
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None  # training only
    hook = _probe_hook_class()()
    result = train(cfg, work_dir / name, resume=False, progress=False, threads=threads,
                   hooks=[hook])
    import torch

    from .engine import allow_mmengine_checkpoints

    allow_mmengine_checkpoints()
    state = torch.load(result.checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    steps = len(hook.loss_values)
    return {"config": exp.config, "steps": steps, "data": _short(hook.batches),
            "losses": _short(hook.losses), "weights": weights_fingerprint(state),
            "final_loss": hook.loss_values[-1] if steps else None,
            "seconds_per_step": round(hook.seconds / max(steps - 1, 1), 4)
            if hook.seconds else None,
            "first_step": hook.first_step}


def run_probe(threads: int | None = None, work_dir: Path | None = None) -> dict:
    """The probe on this machine: every run of ``PROBE_RUNS``, the combined fingerprint, and the
    machine and numeric settings it ran under."""
    import logging

    from .provenance import machine, machine_id, source, versions

    logging.getLogger("mmengine").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="srtod-probe-") as tmp:
        root = Path(work_dir) if work_dir else Path(tmp)
        data = probe_data(root)
        start = time.perf_counter()
        runs = {name: probe_run(name, data, root / "work", threads) for name in PROBE_RUNS}
        seconds = time.perf_counter() - start
    from .numerics import state

    digest = hashlib.sha256()
    for name in PROBE_RUNS:
        digest.update(f"{name}:{runs[name]['data']}:{runs[name]['losses']}:"
                      f"{runs[name]['weights']}".encode())
    return {"fingerprint": _short(digest), "runs": runs, "numerics": state(),
            "machine": machine(), "machine_id": machine_id(), "versions": versions(),
            "source": source(), "seconds": round(seconds, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d")}


def first_difference(result: dict, reference: dict) -> str | None:
    """Where ``result`` first departs from ``reference``: the input data, else the first module
    of the first step whose output differs, else the losses or the weights after the last step;
    None when they agree."""
    for name in PROBE_RUNS:
        ours, theirs = result["runs"].get(name), reference["runs"].get(name)
        if ours is None or theirs is None:
            return f"{name}: not in both probes"
        if ours["data"] != theirs["data"]:
            return f"{name}: the input batches differ (data generation or augmentation)"
        theirs_steps = dict(map(tuple, theirs["first_step"]))
        for label, value in ours["first_step"]:
            if label not in theirs_steps:
                return f"{name}: module {label} ran here, not in the reference (other code)"
            if theirs_steps[label] != value:
                return f"{name}: first step, output of module {label}"
        if ours["losses"] != theirs["losses"]:
            return f"{name}: the losses (the first step's forward pass agrees: backward or a " \
                   "later step)"
        if ours["weights"] != theirs["weights"]:
            return f"{name}: the weights after the last step (the losses agree)"
    return None


def read_reference(path: Path = REFERENCE) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def write_reference(result: dict, path: Path = REFERENCE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def machine_row(result: dict, reference: dict | None) -> dict:
    from .provenance import widest_isa

    m, n = result["machine"], result["numerics"]
    widest = widest_isa(m)
    return {"date": result["date"],
            "machine": f"{m['cpu']} (family {m.get('family')} model {m.get('model')} stepping "
                       f"{m.get('stepping')}, {m['cores']} cores)",
            "isa": widest + (" amx" if any(f.startswith("amx") for f in m["isa"]) else ""),
            "caches": " ".join(f"{k}={v}" for k, v in m["caches"].items()),
            "mode": n["mode"], "within_contract": n["within_contract"],
            "aten_capability": n["aten_capability"], "threads": n["threads"],
            "fingerprint": result["fingerprint"],
            "matches_reference": None if reference is None
            else result["fingerprint"] == reference["fingerprint"],
            "commit": (result["source"]["commit"] or "")[:10]
            + ("" if result["source"]["clean"] else "+changes"),
            "torch": result["versions"].get("torch"), "seconds": result["seconds"]}


def append_machine_row(row: dict, path: Path = MACHINES) -> Path:
    """Add ``row`` to the committed table of machines seen (one row per machine, mode and
    fingerprint: a repeat of an existing row is not added)."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    if path.is_file():
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    key = ("machine", "caches", "mode", "threads", "fingerprint", "commit")
    if not any(all(str(r.get(k)) == str(row[k]) for k in key) for r in rows):
        rows.append({k: row[k] for k in MACHINE_COLUMNS})
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MACHINE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path
