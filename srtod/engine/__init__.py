"""Training/inference utilities around mmengine's Runner; importing registers srtod's hooks."""

from .checkpoint_safety import allow_mmengine_checkpoints
from .hooks import ProgressBarHook

__all__ = ["ProgressBarHook", "allow_mmengine_checkpoints"]
