# The COCO layout every data set of srtod shares (mmdet's `coco_detection.py` in srtod's shape):
# DIR/images/<split>/ and DIR/annotations/<split>.json, the train/val/test loaders and the AI-TOD
# protocol (paper Sec. 4.1: areas vt/t/s/m, maxDets 100/300/1500). Neutral: a data-set base
# (synthetic.py, droneswarms.py, ...) inherits it, states its facts (`dataset_*`, `data_root`,
# `image_scale`, `num_classes`, `anchor_scale`, `threshold_init`) and points the loaders at them.
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
image_scale = (1333, 800)  # mmdet's default; a data-set base sets its own
backend_args = None
custom_imports = dict(
    imports=['srtod.models', 'srtod.task_modules', 'srtod.data.datasets', 'srtod.evaluation.metric'],
    allow_failed_imports=False)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/test.json',
        data_prefix=dict(img='images/test/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
# AI-TOD protocol (paper Sec. 4.1): areas vt/t/s/m, maxDets 100/300/1500.
val_evaluator = dict(type='AITODMetric', ann_file=data_root + 'annotations/val.json',
                     protocol='aitod')
test_evaluator = dict(type='AITODMetric', ann_file=data_root + 'annotations/test.json',
                      protocol='aitod')
