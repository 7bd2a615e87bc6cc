# DetectoRS w/ SR-TOD (Tab. 1: 37.9 -> 38.8 AP on DroneSwarms), slim CPU model: the reconstruction
# reads the final P2, after the recursive pyramid's second backbone pass.
_base_ = './detectors_cascade-rcnn_r50-slim_fpn_60e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='CascadeRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
