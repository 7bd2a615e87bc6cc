# DINO's own schedule (mmdet's dino-4scale_r50_8xb2-12e_coco), on every data set: AdamW lr 1e-4
# (backbone 1e-5), gradient clipping at 0.1, 12 epochs with one decay at epoch 11, batch 2.
_base_ = './threshold_no_decay.py'
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.0001),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[11], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=2)
