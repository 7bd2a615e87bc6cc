# The embedded data set: the synthetic anti-UAV frames that `python -m srtod generate` (and the
# pipeline's prepare stage) makes, 128 x 128 px, one class (drone), DroneSwarms-like sizes.
# Batch 4 (the lr of the 60-epoch CPU schedule is set for it).
_base_ = './coco_layout.py'
dataset_name = 'synthetic'
dataset_type = 'DroneSwarmsDataset'
data_root = 'data/synthetic/'
image_scale = (128, 128)  # the generated size: frames are kept as they are
num_classes = 1  # srtod.data.catalog's classes (tests/test_configs.py checks every base)
anchor_scale = 2  # DroneSwarms' value: RPN `scales=[s]`, RetinaNet `octave_base_scale=s`
threshold_init = 40 / 255  # DroneSwarms' initial DGFE threshold t (image intensities in [0, 1])
train_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=4, dataset=dict(type=dataset_type, data_root=data_root,
                                                   pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root,
                                                     pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
