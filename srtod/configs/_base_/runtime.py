_base_ = 'mmdet::_base_/default_runtime.py'
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    visualization=dict(type='DetVisualizationHook', draw=False))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
# distributed backend: NCCL between GPUs, gloo on CPUs, chosen at launch (srtod.engine.runner.set_distributed)
randomness = dict(seed=0, deterministic=False)
