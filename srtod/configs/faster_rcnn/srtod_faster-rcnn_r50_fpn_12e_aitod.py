# Faster R-CNN w/ SR-TOD on AI-TOD (Tab. 3: 11.7 -> 20.6 AP): the baseline config plus P2
# reconstruction (stride 4), DGFE, and a learnable threshold t initialised at the data set's value.
_base_ = './faster-rcnn_r50_fpn_12e_aitod.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
