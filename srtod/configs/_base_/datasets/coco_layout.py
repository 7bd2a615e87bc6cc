# The embedded default data set: the synthetic anti-UAV set made by `python -m srtod generate`
# (one class, drone; DroneSwarms-like sizes). Images are kept at their generated size.
dataset_type = 'DroneSwarmsDataset'
data_root = 'data/synthetic/'
image_scale = (512, 512)
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

# The data set's settings of the model (paper Sec. 4.1 and the official code), written once per data
# set in its base: detector configs read them as `{{_base_.<name>}}`, `--dataset` (and
# srtod.config.switch_dataset) reads them from here. The class names are srtod.data.catalog's (the
# dataset class's METAINFO and the VisDrone converter read them there, without mmengine), so the
# heads' number of classes is taken from it.
dataset_name = 'synthetic'
num_classes = __import__(
    'srtod.data.catalog', fromlist=['CATALOG']).CATALOG[dataset_name].num_classes
anchor_scale = 2  # DroneSwarms' value: RPN `scales=[s]`, RetinaNet `octave_base_scale=s`
threshold_init = 40 / 255  # DroneSwarms' initial DGFE threshold t (image intensities in [0, 1])
