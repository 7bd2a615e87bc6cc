# The threshold study's t per image: the quantile of each image's D that switches on the share of
# pixels the measured t (14.5/255) switched on, 1 - 0.0692 (docs/results/threshold_study/measured_t).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='quantile', quantile=0.9308))))
