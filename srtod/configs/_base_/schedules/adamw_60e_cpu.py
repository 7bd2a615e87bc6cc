# The slim CPU schedule (the `default` benchmark): AdamW from scratch, lr 0.002 for batch 4, 100
# iterations of linear warm-up, then a cosine to 5% over 60 epochs; validation every 2 epochs.
# AdamW converges far faster than SGD from random init. 60 epochs: 40 left both baseline and
# SR-TOD unconverged, 90 gained neither (docs/benchmark.md, docs/results/convergence).
_base_ = './threshold_no_decay.py'
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=60, eta_min_ratio=0.05,
         convert_to_iter_based=True),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.0001, foreach=True),  # one kernel per op
    clip_grad=dict(max_norm=10.0))
auto_scale_lr = dict(enable=False, base_batch_size=2)
