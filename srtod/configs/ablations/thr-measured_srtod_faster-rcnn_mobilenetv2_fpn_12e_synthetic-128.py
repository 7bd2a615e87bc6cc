# The ImageNet start's measured t, fixed: `python -m srtod threshold` on its SR-TOD run (seed 0,
# 12 epochs, validation split; docs/results/imagenet/measured_t): the largest t maximising very
# tiny boxes touched - background on is 17.25/255 (91% touched, 4.2% of the background on);
# 0.067647 is 17.25/255 to 6 decimals, fixed before the row ran.
_base_ = '../faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='fixed', init=0.067647))))
