# DetectoRS (Tab. 1-3), paper setting: the Cascade R-CNN config of this data set with DetectoRS'
# ResNet-50 (SAC, ConvAWS; ImageNet weights in both passes) and the recursive feature pyramid.
_base_ = ['../cascade_rcnn/cascade-rcnn_r50_fpn_12e_visdrone.py', '../_base_/models/detectors.py']
model = dict(
    backbone=dict(_base_.detectors_convs, output_img=True),
    neck=dict(_base_.detectors_rfp, aspp_out_channels=64,
              rfp_backbone=dict(_base_.model.backbone, **_base_.detectors_convs, rfp_inplanes=256)))
