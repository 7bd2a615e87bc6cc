# Faster R-CNN w/ SR-TOD on the ImageNet MobileNetV2 (issue 37): the block of the slim SR-TOD
# config (reconstruction from P2, stride 4, as in the paper; DGFE with a learnable t initialised at
# the data set's value) on faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py, whose schedule and
# input size are a first guess, not measured.
_base_ = './faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
