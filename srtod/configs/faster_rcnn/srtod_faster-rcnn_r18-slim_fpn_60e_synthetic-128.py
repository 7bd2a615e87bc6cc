# Faster R-CNN w/ SR-TOD (paper Fig. 2): reconstruction from P2 (stride 4) and DGFE with a
# learnable threshold initialised at the data set's t (synthetic: 40/255, the official
# DroneSwarms value). The `default` benchmark's SR-TOD run.
_base_ = './faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE',
                         threshold=dict(mode='learnable', init={{_base_.threshold_init}}))))
