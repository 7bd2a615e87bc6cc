# Cascade R-CNN baseline, paper setting (Sec. 4.1): ResNet-50 FPN, anchor scale 2, SGD 0.0025, 20e.
_base_ = [
    'mmdet::_base_/models/cascade-rcnn_r50_fpn.py', '../_base_/datasets/droneswarms.py',
    '../_base_/schedules/sgd_20e.py', '../_base_/runtime.py'
]
model = dict(
    rpn_head=dict(anchor_generator=dict(scales=[2])),
    roi_head=dict(bbox_head=[
        dict(type='Shared2FCBBoxHead', in_channels=256, fc_out_channels=1024, roi_feat_size=7,
             num_classes=1, reg_class_agnostic=True,
             bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=stds),
             loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
             loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
        for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067])
    ]))
