# DetectoRS (Tab. 1), slim CPU model: DetectoRS' ResNet-50 layout at a quarter of its width (16
# base channels: stages of 64, 128, 256, 512; DetectoRS has no ResNet-18), from scratch, a 64-channel
# recursive feature pyramid (ASPP 4 x 16 channels) and the slim Cascade R-CNN heads.
_base_ = ['../cascade_rcnn/cascade-rcnn_r18-slim_fpn_60e_synthetic-128.py',
          '../_base_/models/detectors.py']
model = dict(
    backbone=dict(_base_.detectors_convs, depth=50, base_channels=16, output_img=True),
    neck=dict(_base_.detectors_rfp, in_channels=[64, 128, 256, 512], aspp_out_channels=16,
              rfp_backbone=dict(_base_.model.backbone, **_base_.detectors_convs, depth=50,
                                base_channels=16, rfp_inplanes=64)))
