# AI-TOD v1 (8 classes), COCO json under data/raw/aitod/ (see srtod/data/README.md); 800x800
# images. Settings of the official code (which follows RFLA, as the paper says in Sec. 4.1):
# 800x800, 3000 RPN proposals and 3000 detections per image (the AI-TOD protocol evaluates
# maxDets 1500).
_base_ = './coco_layout.py'
dataset_name = 'aitod'
dataset_type = 'AITODDataset'
data_root = 'data/raw/aitod/'
image_scale = (800, 800)
num_classes = 8  # srtod.data.catalog's classes (tests/test_configs.py checks)
anchor_scale = 4  # RFLA's, official code
threshold_init = 3 / 255  # official code
# RPN proposals per image (nms_pre and max_per_img, training and test; a one-stage head's candidates
# before NMS) and detections per image after NMS
proposals_per_img = 3000
detections_per_img = 3000
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
