# The convergence check of the `default` benchmark: its SR-TOD run trained 1.5x longer, 90
# epochs, the cosine stretched to the new end (docs/results/convergence).
_base_ = './srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
train_cfg = dict(max_epochs=90)
param_scheduler = [dict(s, end=90) if s['by_epoch'] else s for s in _base_.param_scheduler]
