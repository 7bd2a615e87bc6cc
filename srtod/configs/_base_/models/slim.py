# The CPU-friendly backbone and neck of the `default` profile, trained from scratch: ResNet-18 at
# half width (stages of 32, 64, 128, 256 channels; BN trained) and a 64-channel FPN.
slim_backbone = dict(
    type='ResNet', depth=18, base_channels=32, num_stages=4, out_indices=(0, 1, 2, 3),
    frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
    style='pytorch', init_cfg=None)
slim_in_channels = [32, 64, 128, 256]
slim_channels = 64
# RoI features from torchvision's RoIAlign kernel: the same values and gradients as mmcv's (8
# training steps of SR-TOD and Cascade R-CNN gave bitwise equal weights) at ~20% less time
slim_roi_extractor = dict(roi_layer=dict(use_torchvision=True), out_channels=slim_channels)
# DETRs take stages C3-C5 only
slim_backbone_c3c5 = dict(slim_backbone, out_indices=(1, 2, 3))
