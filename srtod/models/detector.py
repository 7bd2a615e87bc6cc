"""One generic mechanism that attaches SR-TOD to any mmdet detector.

A config turns a detector into its SR-TOD variant by changing two keys and adding one::

    model = dict(type='SRTOD', detector='FasterRCNN',      # was: type='FasterRCNN'
                 srtod=dict(type='SelfReconstruction', in_channels=256, stride=4))

``SRTOD`` builds the class ``SRTOD<Detector>`` = (:class:`SRTODMixin`, Detector) once per detector
type. The mixin wraps ``extract_feat``, which every mmdet detector (two-stage, single-stage, DETR
family) calls in ``loss``, ``predict`` and ``_forward``: the chosen pyramid level is reconstructed,
enhanced and replaced, in training and in inference. ``loss`` adds the reconstruction loss. The
state dict is the detector's plus ``srtod.*``, so baseline checkpoints load into SR-TOD models.
"""

from __future__ import annotations

import functools

from mmdet.registry import MODELS
from mmdet.utils import ConfigType
from torch import Tensor

from .self_reconstruction import input_to_unit_range


class SRTODMixin:
    """Adds a :class:`~srtod.models.SelfReconstruction` block (``self.srtod``) to a detector."""

    def __init__(self, *args, srtod: ConfigType, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.srtod = MODELS.build(srtod)
        self._srtod_state: tuple[dict, Tensor] | None = None

    def extract_feat(self, batch_inputs: Tensor):
        feats = super().extract_feat(batch_inputs)
        target = input_to_unit_range(batch_inputs, self.data_preprocessor)
        feats, out = self.srtod(feats, target)
        self._srtod_state = (out, target) if self.training else None
        return feats

    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        losses = super().loss(batch_inputs, batch_data_samples)
        out, target = self._srtod_state
        self._srtod_state = None
        losses.update(self.srtod.loss(out, target))
        return losses


@functools.cache
def srtod_class(detector_cls: type) -> type:
    """``SRTOD<Detector>``: the detector class with :class:`SRTODMixin` in front of it."""
    return type(f"SRTOD{detector_cls.__name__}", (SRTODMixin, detector_cls),
                {"__doc__": f"{detector_cls.__name__} with SR-TOD (see srtod.models.detector)."})


@MODELS.register_module(name="SRTOD")
def build_srtod_detector(detector: str, srtod: ConfigType, **kwargs):
    """Build detector type ``detector`` (a name in mmdet's MODELS registry) with SR-TOD."""
    detector_cls = MODELS.get(detector)
    if detector_cls is None:
        raise KeyError(f"SRTOD: detector type {detector!r} is not registered in mmdet's MODELS "
                       "(check the spelling and custom_imports)")
    return srtod_class(detector_cls)(srtod=srtod, **kwargs)
