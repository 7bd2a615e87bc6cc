# Cascade R-CNN baseline of the `default` profile (slim ResNet-18 FPN from scratch, anchor scale 2).
_base_ = [
    'mmdet::_base_/models/cascade-rcnn_r50_fpn.py', '../_base_/models/slim.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_60e_cpu.py', '../_base_/runtime.py'
]
model = dict(
    backbone={{_base_.slim_backbone}},
    neck=dict(in_channels={{_base_.slim_in_channels}}, out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64,
                  anchor_generator=dict(scales=[{{_base_.anchor_scale}}])),
    roi_head=dict(
        bbox_roi_extractor={{_base_.slim_roi_extractor}},
        # the three cascade stages (IoU 0.5/0.6/0.7) differ only in their regression target stds
        bbox_head=[
            dict(type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=256, roi_feat_size=7,
                 num_classes={{_base_.num_classes}}, reg_class_agnostic=True,
                 bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                                 target_stds=stds),
                 loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
            for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                         [0.033, 0.033, 0.067, 0.067])
        ]),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=300)),  # as Faster R-CNN's
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=300), rcnn=dict(max_per_img=300)))
