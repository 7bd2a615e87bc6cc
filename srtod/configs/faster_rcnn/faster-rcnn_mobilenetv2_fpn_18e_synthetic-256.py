# The ImageNet start at the size and schedule its checks chose (docs/results/imagenet): 256 px
# (+9.6 AP over 128 px at 12 epochs) and 18 epochs (chosen at 128 px), the cosine stretched.
_base_ = './faster-rcnn_mobilenetv2_fpn_12e_synthetic-256.py'
train_cfg = dict(max_epochs=18)
param_scheduler = [dict(s, end=18) if s['by_epoch'] else s for s in _base_.param_scheduler]
