# Tab. 4's middle row on the ImageNet start at 256 px and 18 epochs (docs/results/imagenet): the
# reconstruction head and its loss, no DGFE.
_base_ = '../faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_18e_synthetic-256.py'
model = dict(srtod=dict(dgfe=None))
