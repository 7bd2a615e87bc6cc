"""Let torch's safe ``weights_only`` loader read mmengine checkpoints.

torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 calls ``torch.load``
without the argument, so resuming fails on the objects a training checkpoint holds besides
tensors (the message hub's ``HistoryBuffer``, numpy scalars and arrays, ...). Rather than turning
the safety off, we allow-list exactly those types.

``HistoryBuffer`` also pickles its statistics methods as ``getattr(HistoryBuffer, 'min')``;
allowing ``getattr`` would open the unpickler to arbitrary attribute access, so checkpoints we write
leave those methods out (the defaults are rebuilt on load and custom ones are class-level
registrations that importing their module restores).
"""

from __future__ import annotations

import functools

import numpy as np
import torch


def _history_buffer_state(self) -> dict:
    state = dict(self.__dict__)
    state.pop("statistics_methods", None)
    return state


@functools.cache
def allow_mmengine_checkpoints() -> list[type]:
    """Register the globals an mmengine/mmdet checkpoint needs as safe; returns them."""
    from mmengine.config.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_state

    safe: list = [HistoryBuffer, ConfigDict, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
                  np.core.multiarray.scalar]
    # numpy >= 1.25 pickles dtypes as instances of per-type classes (np.dtypes.Float64DType ...)
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        safe += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith("DType")]
    torch.serialization.add_safe_globals(safe)
    return safe
