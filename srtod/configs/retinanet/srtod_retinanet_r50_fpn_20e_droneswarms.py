# RetinaNet w/ SR-TOD on DroneSwarms (Tab. 1: 27.3 -> 28.7 AP): the baseline config plus
# reconstruction from P3 (RetinaNet has no P2; stride 8, three up-stages), DGFE, and a learnable
# threshold t initialised at the data set's value.
_base_ = './retinanet_r50_fpn_20e_droneswarms.py'
model = dict(
    type='SRTOD', detector='RetinaNet',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=8,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
