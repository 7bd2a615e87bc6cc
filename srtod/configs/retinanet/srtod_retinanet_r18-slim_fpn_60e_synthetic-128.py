# RetinaNet w/ SR-TOD: RetinaNet has no P2, so the reconstruction starts from P3 (stride 8, three
# up-stages; paper Sec. 3.1).
_base_ = './retinanet_r18-slim_fpn_60e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='RetinaNet',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=8,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
