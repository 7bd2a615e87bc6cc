# RetinaNet baseline, paper setting (Sec. 4.1) on DroneSwarms: ImageNet ResNet-50 FPN, SGD lr 0.0025
# for 20 epochs, batch 2; the data set's anchor scale and classes, mmdet's detection counts.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/droneswarms.py',
    '../_base_/schedules/sgd_20e.py', '../_base_/runtime.py'
]
model = dict(bbox_head=dict(num_classes={{_base_.num_classes}},
                            anchor_generator=dict(octave_base_scale={{_base_.anchor_scale}})))
