# The ImageNet start's measured t at 256 px, fixed: `python -m srtod threshold` on its SR-TOD run
# (256 px, 18 epochs, seed 0, validation split; docs/results/imagenet/measured_t_256): the largest
# t maximising very tiny boxes touched - background on is 11.5/255 (95% touched, 9.8% of the
# background on); 0.045098 is 11.5/255 to 6 decimals, fixed before the row ran.
_base_ = '../faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_18e_synthetic-256.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='fixed', init=0.045098))))
