# DINO baseline, paper setting on DroneSwarms (Tab. 1): ResNet-50, DINO's own schedule (AdamW lr
# 1e-4, 12 epochs, mmdet's), batch 2; the data set's classes, mmdet's 300 detections per image.
_base_ = [
    '../_base_/models/dino-4scale_r50.py', '../_base_/datasets/droneswarms.py',
    '../_base_/schedules/adamw_12e_dino.py', '../_base_/runtime.py'
]
model = dict(bbox_head=dict(num_classes={{_base_.num_classes}}))
