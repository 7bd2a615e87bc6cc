# Any COCO-format data set (`--dataset coco --data-root DIR`, or `data: {name: coco, root: DIR}`
# in params.yaml): DIR/images/<split>/ and DIR/annotations/<split>.json. Its classes are the
# categories of annotations/train.json (srtod.config.load_config sets the datasets' metainfo and
# the heads' number of classes from them). Images are resized to at most 1333x800 (mmdet's
# default; `--image-size` changes it: keep tiny objects' pixels where memory allows). Anchor scale
# and initial threshold are DroneSwarms' (tiny objects).
_base_ = './coco_layout.py'
dataset_name = 'coco'
dataset_type = 'CocoDataset'
data_root = 'data/raw/coco/'
image_scale = (1333, 800)
num_classes = 1  # replaced by the number of categories in annotations/train.json
anchor_scale = 2
threshold_init = 40 / 255
# the layout's pipelines at this data set's input size; the loaders pointed at its facts
train_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                     pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                                     pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
