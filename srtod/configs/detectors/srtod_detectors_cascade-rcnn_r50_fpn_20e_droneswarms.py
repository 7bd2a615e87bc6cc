# DetectoRS w/ SR-TOD, paper setting: P2 reconstruction (stride 4) from the final pyramid, DGFE,
# learnable t initialised at the data set's value.
_base_ = './detectors_cascade-rcnn_r50_fpn_20e_droneswarms.py'
model = dict(
    type='SRTOD', detector='CascadeRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
