# `default` profile: a short from-scratch schedule for 2 CPU cores. AdamW converges far faster
# than SGD from random init in a few hundred iterations; the pipeline sets max_epochs from params.yaml.
_base_ = './threshold_no_decay.py'
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=12, eta_min_ratio=0.05,
         convert_to_iter_based=True),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.0001, foreach=True),  # one kernel per op
    clip_grad=dict(max_norm=10.0))
auto_scale_lr = dict(enable=False, base_batch_size=2)
