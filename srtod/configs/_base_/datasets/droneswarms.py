# DroneSwarms (paper Sec. 4): COCO json, one class `drone`; put it under data/raw/droneswarms/
# (see srtod/data/README.md). The 1920x1080 frames keep their size, as in the official code
# (Resize(1920, 1080), keep ratio): mmdet's default 1333x800 would shrink a 7.9 px drone to 5.5 px.
# Detections per image are mmdet's defaults (1000 RPN proposals, 100 detections; DINO 300).
_base_ = './coco_layout.py'
dataset_name = 'droneswarms'
dataset_type = 'DroneSwarmsDataset'
data_root = 'data/raw/droneswarms/'
image_scale = (1920, 1080)
num_classes = 1  # srtod.data.catalog's classes (tests/test_configs.py checks)
anchor_scale = 2  # paper Sec. 4.1
threshold_init = 40 / 255  # official code
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
