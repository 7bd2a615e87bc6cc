# Cascade R-CNN baseline, paper setting (Sec. 4.1) on VisDrone2019: ImageNet ResNet-50 FPN, SGD lr
# 0.005 for 12 epochs (RFLA's), batch 2; the data set's anchor scale, classes (all three stages) and
# detection counts.
_base_ = [
    'mmdet::_base_/models/cascade-rcnn_r50_fpn.py', '../_base_/datasets/visdrone.py',
    '../_base_/schedules/sgd_12e.py', '../_base_/runtime.py'
]
model = dict(
    rpn_head=dict(anchor_generator=dict(scales=[{{_base_.anchor_scale}}])),
    roi_head=dict(bbox_head=[dict(stage, num_classes={{_base_.num_classes}})
                             for stage in _base_.model.roi_head.bbox_head]),
    train_cfg=dict(rpn_proposal=dict(nms_pre={{_base_.proposals_per_img}},
                                     max_per_img={{_base_.proposals_per_img}})),
    test_cfg=dict(rpn=dict(nms_pre={{_base_.proposals_per_img}},
                           max_per_img={{_base_.proposals_per_img}}),
                  rcnn=dict(max_per_img={{_base_.detections_per_img}})))
