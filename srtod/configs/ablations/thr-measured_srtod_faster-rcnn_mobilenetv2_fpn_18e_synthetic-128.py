# The ImageNet start's measured t, fixed, at 18 epochs (docs/results/imagenet): the t of the
# 12-epoch row (thr-measured_srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py, 17.25/255
# measured on the 12-epoch SR-TOD run, seed 0), which the plan keeps.
_base_ = '../faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_18e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='fixed', init=0.067647))))
