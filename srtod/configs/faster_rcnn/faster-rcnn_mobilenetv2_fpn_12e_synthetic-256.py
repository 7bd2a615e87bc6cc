# The input-size check of the ImageNet start (docs/results/imagenet): the 128 px frames resized to
# 256 px (objects twice as large in pixels, closer to the 224 px the backbone was trained at),
# at 2.3x the FLOPs of 128 px.
_base_ = './faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py'
image_scale = (256, 256)
train_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=image_scale) if t['type'] == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
