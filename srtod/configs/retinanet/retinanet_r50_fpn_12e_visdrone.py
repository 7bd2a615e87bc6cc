# RetinaNet baseline, paper setting (Sec. 4.1) on VisDrone2019: ImageNet ResNet-50 FPN, SGD lr 0.005
# for 12 epochs (RFLA's), batch 2; the data set's anchor scale, classes and detection counts
# (candidates per level before NMS and detections after it, as in RFLA's one-stage configs).
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/visdrone.py',
    '../_base_/schedules/sgd_12e.py', '../_base_/runtime.py'
]
model = dict(
    bbox_head=dict(num_classes={{_base_.num_classes}},
                   anchor_generator=dict(octave_base_scale={{_base_.anchor_scale}})),
    test_cfg=dict(nms_pre={{_base_.proposals_per_img}}, max_per_img={{_base_.detections_per_img}}))
