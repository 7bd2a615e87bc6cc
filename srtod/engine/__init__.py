"""Training/inference utilities around mmengine's Runner; importing registers srtod's hooks."""

from .checkpoint_safety import allow_mmengine_checkpoints
from .hooks import ChannelsLastHook, ProgressBarHook, RandomStateHook, to_channels_last

__all__ = ["ChannelsLastHook", "ProgressBarHook", "RandomStateHook", "allow_mmengine_checkpoints",
           "to_channels_last"]
