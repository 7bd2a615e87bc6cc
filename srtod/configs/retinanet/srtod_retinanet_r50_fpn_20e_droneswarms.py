# RetinaNet w/ SR-TOD, paper setting: P3 reconstruction (3 up-stages), DGFE, t = 40/255.
_base_ = './retinanet_r50_fpn_20e_droneswarms.py'
model = dict(
    type='SRTOD', detector='RetinaNet',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=8,
               dgfe=dict(type='DGFE', threshold=dict(mode='learnable', init=40 / 255))))
