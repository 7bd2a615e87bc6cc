# Faster R-CNN baseline, paper setting (Sec. 4.1): ImageNet ResNet-50 FPN, anchor scale 2,
# SGD lr 0.0025 for 20 epochs, batch 2, on DroneSwarms.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/droneswarms.py',
    '../_base_/schedules/sgd_20e.py', '../_base_/runtime.py'
]
model = dict(
    rpn_head=dict(anchor_generator=dict(scales=[2])),
    roi_head=dict(bbox_head=dict(num_classes=1)))
