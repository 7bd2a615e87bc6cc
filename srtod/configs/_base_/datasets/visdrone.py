# VisDrone2019-DET (10 classes) converted to COCO by `python -m srtod convert` into
# data/raw/visdrone/annotations/ (see srtod/data/README.md); ignored regions are iscrowd=1.
# Settings of the official code (which follows RFLA, as the paper says in Sec. 4.1): images resized
# to fit 1280x1280, 3000 RPN proposals and 3000 detections per image.
_base_ = './coco_layout.py'
dataset_name = 'visdrone'
dataset_type = 'VisDroneDataset'
data_root = 'data/raw/visdrone/'
image_scale = (1280, 1280)
num_classes = 10  # srtod.data.catalog's classes (tests/test_configs.py checks)
anchor_scale = 6  # RFLA's, official code
threshold_init = 4 / 255  # official code
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
