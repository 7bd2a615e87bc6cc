# The second convergence check of the ImageNet start (docs/results/imagenet): its SR-TOD run
# trained 1.5x the 18 epochs it moved to when 12 failed the first check, 27 epochs, the cosine
# stretched to the new end.
_base_ = './srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py'
train_cfg = dict(max_epochs=27)
param_scheduler = [dict(s, end=27) if s['by_epoch'] else s for s in _base_.param_scheduler]
