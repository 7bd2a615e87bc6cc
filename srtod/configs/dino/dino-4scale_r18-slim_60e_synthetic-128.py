# DINO of the `smoke` profile: slim ResNet-18 (C3-C5), 2 + 2 transformer layers, 100 queries.
# mmdet's DINO decoder fixes the sine embedding at 128 features, so embeddings stay 256-d.
# DETRs converge slowly: the pipeline keeps DINO to `smoke` and `paper`.
_base_ = [
    '../_base_/models/dino-4scale_r50.py', '../_base_/models/slim.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_60e_cpu.py', '../_base_/runtime.py'
]
model = dict(
    num_queries=100,
    backbone={{_base_.slim_backbone_c3c5}},
    neck=dict(in_channels=[64, 128, 256]),
    encoder=dict(num_layers=2, layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    decoder=dict(num_layers=2, layer_cfg=dict(ffn_cfg=dict(feedforward_channels=512))),
    dn_cfg=dict(group_cfg=dict(num_dn_queries=20)),
    test_cfg=dict(max_per_img=100))
optim_wrapper = dict(optimizer=dict(lr=0.0002), clip_grad=dict(max_norm=0.1))
