# DINO of the `default`/`smoke` profiles: slim ResNet-18 (C3-C5), 64-d embeddings, 2+2 layers,
# 100 queries. DETRs converge slowly: the pipeline keeps DINO to `smoke` and `paper`.
_base_ = [
    '../_base_/models/dino-4scale_r50.py', '../_base_/models/slim.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/cpu.py', '../_base_/runtime.py'
]
model = dict(
    num_queries=100,
    backbone=dict({{_base_.slim_backbone}}, out_indices=(1, 2, 3)),
    neck=dict(in_channels=[64, 128, 256], out_channels=64, norm_cfg=dict(num_groups=8)),
    encoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=64, num_heads=4),
            ffn_cfg=dict(embed_dims=64, feedforward_channels=256))),
    decoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=64, num_heads=4),
            cross_attn_cfg=dict(embed_dims=64, num_heads=4),
            ffn_cfg=dict(embed_dims=64, feedforward_channels=256))),
    positional_encoding=dict(num_feats=32),
    dn_cfg=dict(group_cfg=dict(num_dn_queries=20)))
optim_wrapper = dict(optimizer=dict(lr=0.0002), clip_grad=dict(max_norm=0.1))
