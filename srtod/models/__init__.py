"""SR-TOD modules, registered in mmdet's MODELS registry on import."""

from .detector import SRTODMixin, build_srtod_detector, srtod_class
from .dgfe import DGFE, ChannelReweighting, resize_mask
from .difference_map import difference_map, high_pass, highfreq_difference_map, pixel_difference_map
from .mobilenet_backbone import TorchvisionMobileNetV2
from .reconstruction_head import LiteReconstructionHead, ReconstructionHead
from .self_reconstruction import SelfReconstruction, input_to_unit_range, record_intermediates
from .threshold import Threshold

__all__ = [
    "DGFE", "ChannelReweighting", "LiteReconstructionHead", "ReconstructionHead", "SRTODMixin", "SelfReconstruction",
    "Threshold", "TorchvisionMobileNetV2", "build_srtod_detector", "difference_map", "high_pass", "highfreq_difference_map",
    "input_to_unit_range", "pixel_difference_map", "record_intermediates", "resize_mask",
    "srtod_class",
]
