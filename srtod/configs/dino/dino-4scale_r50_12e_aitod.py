# DINO baseline on AI-TOD (not in the paper, whose DINO runs are on DroneSwarms only): ResNet-50,
# DINO's own schedule (AdamW lr 1e-4, 12 epochs, mmdet's), batch 2; the data set's classes and
# detections per image (of 900 queries x classes scores).
_base_ = [
    '../_base_/models/dino-4scale_r50.py', '../_base_/datasets/aitod.py',
    '../_base_/schedules/adamw_12e_dino.py', '../_base_/runtime.py'
]
model = dict(bbox_head=dict(num_classes={{_base_.num_classes}}),
             test_cfg=dict(max_per_img={{_base_.detections_per_img}}))
