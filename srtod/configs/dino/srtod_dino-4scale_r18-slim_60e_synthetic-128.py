# DINO w/ SR-TOD (slim): reconstruction from the stride-8 level.
_base_ = './dino-4scale_r18-slim_60e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='DINO',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=8,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
