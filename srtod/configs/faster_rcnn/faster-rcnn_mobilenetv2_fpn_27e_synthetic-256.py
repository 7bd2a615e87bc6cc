# The schedule check at 256 px (docs/results/imagenet): faster-rcnn_mobilenetv2_fpn_18e_synthetic-256.py
# trained 1.5x longer, 27 epochs, the cosine stretched to the new end.
_base_ = './faster-rcnn_mobilenetv2_fpn_18e_synthetic-256.py'
train_cfg = dict(max_epochs=27)
param_scheduler = [dict(s, end=27) if s['by_epoch'] else s for s in _base_.param_scheduler]
