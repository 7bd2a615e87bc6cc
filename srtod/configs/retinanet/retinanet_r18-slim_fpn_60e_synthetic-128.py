# RetinaNet baseline of the `default` profile: slim ResNet-18 FPN (P3-P7) from scratch, two
# stacked head convs, anchor scale 2.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py', '../_base_/models/slim.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/adamw_60e_cpu.py', '../_base_/runtime.py'
]
model = dict(
    backbone={{_base_.slim_backbone}},
    neck=dict(in_channels={{_base_.slim_in_channels}}, out_channels=64),
    bbox_head=dict(num_classes={{_base_.num_classes}}, in_channels=64, feat_channels=64,
                   stacked_convs=2,
                   anchor_generator=dict(octave_base_scale={{_base_.anchor_scale}})),
    test_cfg=dict(max_per_img=300))
