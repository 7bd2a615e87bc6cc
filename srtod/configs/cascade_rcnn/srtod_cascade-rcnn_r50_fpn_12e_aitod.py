# Cascade R-CNN w/ SR-TOD on AI-TOD (Tab. 3: 14.0 -> 21.9 AP): the baseline config plus P2
# reconstruction (stride 4), DGFE, and a learnable threshold t initialised at the data set's value.
_base_ = './cascade-rcnn_r50_fpn_12e_aitod.py'
model = dict(
    type='SRTOD', detector='CascadeRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
