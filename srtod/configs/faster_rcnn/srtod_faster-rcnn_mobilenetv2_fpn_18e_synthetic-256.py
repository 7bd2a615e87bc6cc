# Faster R-CNN w/ SR-TOD on the ImageNet start at 256 px and 18 epochs (docs/results/imagenet):
# the block of srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py on the 256 px baseline.
_base_ = './faster-rcnn_mobilenetv2_fpn_18e_synthetic-256.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
