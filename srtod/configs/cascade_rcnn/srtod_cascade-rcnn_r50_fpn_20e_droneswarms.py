# Cascade R-CNN w/ SR-TOD, paper setting (Tab. 1: 36.4 -> 38.3 AP on DroneSwarms).
_base_ = './cascade-rcnn_r50_fpn_20e_droneswarms.py'
model = dict(
    type='SRTOD', detector='CascadeRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=4,
               dgfe=dict(type='DGFE', threshold=dict(mode='learnable', init=40 / 255))))
