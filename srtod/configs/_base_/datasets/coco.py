# Any COCO-format data set (`--dataset coco --data-root DIR`, or `data: {name: coco, root: DIR}`
# in params.yaml): DIR/images/<split>/ and DIR/annotations/<split>.json. Its classes are the
# categories of annotations/train.json (srtod.config.load_config sets the datasets' metainfo and
# the heads' number of classes from them). Images are resized to at most 1333x800 (mmdet's
# default; `--image-size` changes it: keep tiny objects' pixels where memory allows). Anchor scale
# and initial threshold are DroneSwarms' (tiny objects).
_base_ = './synthetic.py'
dataset_name = 'coco'
dataset_type = 'CocoDataset'
data_root = 'data/raw/coco/'
image_scale = (1333, 800)
num_classes = 1  # replaced by the number of categories in annotations/train.json
anchor_scale = 2
threshold_init = 40 / 255
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                    pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
