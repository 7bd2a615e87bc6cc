"""Training hooks: a tqdm progress bar over the whole schedule."""

from __future__ import annotations

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
            postfix["loss"] = f"{float(outputs['loss']):.3f}"
        postfix["epoch"] = runner.epoch + 1
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
