# VisDrone2019-DET (10 classes) converted to COCO by `python -m srtod convert` into
# data/raw/visdrone/annotations/ (see srtod/data/README.md); ignored regions are iscrowd=1.
_base_ = './droneswarms.py'
dataset_type = 'VisDroneDataset'
data_root = 'data/raw/visdrone/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
