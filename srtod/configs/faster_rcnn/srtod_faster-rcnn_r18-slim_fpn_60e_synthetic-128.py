# Faster R-CNN w/ SR-TOD (paper Fig. 2): reconstruction from P2 (stride 4) and DGFE with a
# learnable threshold initialised at 40/255 (official DroneSwarms value).
_base_ = './faster-rcnn_r18-slim_fpn_cpu_synthetic.py'
model = dict(
    type='SRTOD', detector='FasterRCNN',
    srtod=dict(type='SelfReconstruction', in_channels=64, level=0, stride=4,
               dgfe=dict(type='DGFE', threshold=dict(mode='learnable', init=40 / 255))))
