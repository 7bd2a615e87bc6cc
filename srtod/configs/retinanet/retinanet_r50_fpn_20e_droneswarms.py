# RetinaNet baseline, paper setting (Sec. 4.1): ResNet-50 FPN, anchor scale 2, SGD 0.0025, 20e.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/droneswarms.py',
    '../_base_/schedules/sgd_20e.py', '../_base_/runtime.py'
]
model = dict(bbox_head=dict(num_classes=1, anchor_generator=dict(octave_base_scale=2)))
