# AI-TOD v1 (8 classes), COCO json under data/raw/aitod/ (see srtod/data/README.md); 800x800
# images; settings of RFLA (paper Sec. 4.1).
_base_ = './droneswarms.py'
dataset_type = 'AITODDataset'
data_root = 'data/raw/aitod/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
