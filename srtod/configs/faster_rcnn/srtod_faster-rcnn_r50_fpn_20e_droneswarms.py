# Faster R-CNN w/ SR-TOD, paper setting: P2 reconstruction, DGFE, learnable t = 40/255.
_base_ = './faster-rcnn_r50_fpn_20e_droneswarms.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=256, level=0, stride=4,
               dgfe=dict(type='DGFE', threshold=dict(mode='learnable', init=40 / 255))))
