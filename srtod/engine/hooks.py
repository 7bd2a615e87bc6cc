"""Training hooks: a tqdm progress bar over the whole schedule; channels-last convolutions on the
CPU; the random generators' state carried over a resume."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from tqdm.auto import tqdm


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Shows ``iteration / max_iters`` with the latest total loss and learning rate."""

    priority = "VERY_LOW"

    def __init__(self, desc: str = "train") -> None:
        self.desc = desc
        self._bar = None

    def before_train(self, runner) -> None:
        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc,
                         unit="it", dynamic_ncols=True)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        postfix = {}
        if outputs and "loss" in outputs:
            loss = outputs["loss"]
            postfix["loss"] = f"{float(loss.detach() if hasattr(loss, 'detach') else loss):.3f}"
        postfix["epoch"] = runner.epoch + 1
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


#: modules whose CPU kernels need NCHW inputs: a model holding one stays as it is
NCHW_ONLY = ("DeformConv2d", "ModulatedDeformConv2d", "DeformConv2dPack",
             "ModulatedDeformConv2dPack", "SAConv2d")


def to_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """On the CPU, the 4-D weights (convolutions) in channels-last memory order, in place: oneDNN's
    convolutions run faster on it (measured here, one thread, slim models at 160 px: an SR-TOD
    training step 0.72 -> 0.51 s, a baseline's 0.38-0.46 -> 0.37 s); results equal to float
    rounding (losses to 1e-6). Only plain ``nn.Conv2d``/``ConvTranspose2d`` change; parameters stay
    the same objects, so an optimiser keeps them. mmcv's operators get NCHW inputs (their CPU
    kernels assume it: RoIAlign on a channels-last map returns wrong values). On a GPU the model
    is left as it is."""
    modules = list(model.modules())
    if any(isinstance(m, torch.nn.Conv2d) and type(m) is not torch.nn.Conv2d
           and "Deform" in type(m).__name__ + "".join(c.__name__ for c in type(m).__mro__)
           or type(m).__name__ in NCHW_ONLY for m in modules):
        return model  # mmcv's CPU deformable convolution needs NCHW offsets (DetectoRS' SAC)
    converted = False
    for module in modules:
        # plain convolutions only: subclasses may view their weight as NCHW (ConvAWS)
        if type(module) in (torch.nn.Conv2d, torch.nn.ConvTranspose2d) \
                and module.weight.device.type == "cpu":
            module.to(memory_format=torch.channels_last)
            converted = True
    if converted:
        for module in modules:
            # mmcv's CPU kernels (RoIAlign, deformable attention) index their inputs as NCHW:
            # a channels-last feature map gives wrong values, so they get contiguous copies
            if type(module).__module__.startswith("mmcv.ops") \
                    and not getattr(module, "_srtod_nchw_inputs", False):
                module.register_forward_pre_hook(_nchw_inputs, with_kwargs=True)
                module._srtod_nchw_inputs = True
    return model


def _nchw_inputs(module, args, kwargs):
    def nchw(x):
        return x.contiguous() if torch.is_tensor(x) else x
    return tuple(nchw(a) for a in args), {k: nchw(v) for k, v in kwargs.items()}


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """:func:`to_channels_last` on the model before training (after a resume has loaded it)."""

    priority = "VERY_HIGH"

    def before_train(self, runner) -> None:
        to_channels_last(runner.model)


def random_state() -> dict:
    """The global generators' state: Python's, NumPy's, torch's CPU and (if used) CUDA ones."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore what :func:`random_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() \
            and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """A resumed run continues the random streams where the interrupted one stood, so it ends
    bitwise equal to the uninterrupted run (augmentations, sampled proposals).

    mmengine's resume restores the model, optimiser, schedulers and counters, but re-seeds the
    generators. Each epoch starts by saving their state (``random_state_rank<r>.rng`` in the work
    dir, after the previous epoch's checkpoint and validation); a resume at that iteration
    restores it. A resume from another point (a checkpoint without its epoch's state) warns."""

    priority = "VERY_HIGH"

    @staticmethod
    def _path(runner) -> Path:
        from mmengine.dist import get_rank

        return Path(runner.work_dir) / f"random_state_rank{get_rank()}.rng"

    def before_train(self, runner) -> None:
        path = self._path(runner)
        if not 0 < runner.iter < runner.max_iters:
            return  # a new run, or a finished one with nothing left to train
        saved = torch.load(path, weights_only=False) if path.is_file() else {"iter": None}
        if saved["iter"] != runner.iter:
            runner.logger.warning(
                f"no random state of iteration {runner.iter} in {path} (where this run resumes): "
                "the generators stay re-seeded, so this run will not be bitwise the "
                "uninterrupted one")
            return
        set_random_state(saved["state"])
        runner.logger.info(f"restored the random generators' state of iteration {runner.iter}")

    def before_train_epoch(self, runner) -> None:
        path = self._path(runner)
        tmp = path.with_suffix(".tmp")
        torch.save({"iter": runner.iter, "state": random_state()}, tmp)
        tmp.replace(path)


def weights_fingerprint(model_or_state) -> str:
    """SHA-256 (16 hex digits) of a model's parameters and buffers: names, dtypes, shapes and the
    values' bytes in logical (NCHW) order, so the memory format does not count."""
    import hashlib

    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") \
        else model_or_state
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name]
        if not torch.is_tensor(tensor):
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes() if tensor.dtype != torch.bfloat16
                      else tensor.view(torch.int16).numpy().tobytes())
    return digest.hexdigest()[:16]


@HOOKS.register_module()
class ProvenanceHook(Hook):
    """What made the run, kept with it: each sitting's provenance (:func:`srtod.provenance.
    provenance`: machine, versions, numeric settings, the commit that trained) in
    ``provenance.json`` of the work dir and in every checkpoint's ``meta['srtod_provenance']``;
    the weights' fingerprint after each epoch in ``fingerprints.json`` (``{epoch: hash}``), which
    ``srtod verify`` compares a re-training against."""

    priority = "VERY_LOW"
    PROVENANCE_FILE = "provenance.json"
    FINGERPRINTS_FILE = "fingerprints.json"

    def __init__(self) -> None:
        self._sittings: list = []

    def _write(self, runner, name: str, value) -> None:
        import json

        from mmengine.dist import is_main_process

        if not is_main_process():
            return
        path = Path(runner.work_dir) / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, indent=1) + "\n")
        tmp.replace(path)

    def before_train(self, runner) -> None:
        import json

        from ..provenance import provenance

        path = Path(runner.work_dir) / self.PROVENANCE_FILE
        sittings = json.loads(path.read_text()) if path.is_file() else []
        # a sitting that trained nothing (a resume of a finished run) is not recorded
        if runner.iter < runner.max_iters:
            sittings = [s for s in sittings if s["from_iter"] < runner.iter]
            sittings.append({"from_iter": runner.iter, **provenance()})
            self._write(runner, self.PROVENANCE_FILE, sittings)
        self._sittings = sittings

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault("meta", {})["srtod_provenance"] = self._sittings

    def after_train_epoch(self, runner) -> None:
        import json

        path = Path(runner.work_dir) / self.FINGERPRINTS_FILE
        prints = json.loads(path.read_text()) if path.is_file() else {}
        prints[str(runner.epoch + 1)] = weights_fingerprint(_unwrap(runner.model))
        self._write(runner, self.FINGERPRINTS_FILE, prints)


def _unwrap(model):
    return model.module if hasattr(model, "module") else model


@HOOKS.register_module()
class StopAfterEpochsHook(Hook):
    """Ends training after ``epochs`` epochs of the configured schedule (its learning rates
    unchanged): ``srtod verify`` re-trains the first epochs of a published run."""

    priority = "LOWEST"

    def __init__(self, epochs: int) -> None:
        self.epochs = int(epochs)

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 >= self.epochs:
            runner.train_loop.stop_training = True
