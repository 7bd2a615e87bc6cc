# DINO w/ SR-TOD on VisDrone2019: the baseline config plus reconstruction from the finest level
# (stride 8, three up-stages), DGFE, and a learnable threshold t initialised at the data set's
# value.
_base_ = './dino-4scale_r50_12e_visdrone.py'
model = dict(
    type='SRTOD', detector='DINO',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=8,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
