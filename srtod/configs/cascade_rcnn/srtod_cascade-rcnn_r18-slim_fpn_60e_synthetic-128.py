# Cascade R-CNN w/ SR-TOD (the paper's ablation detector, Tab. 4-7): P2 reconstruction, DGFE.
_base_ = './cascade-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='CascadeRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
