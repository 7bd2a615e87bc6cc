# Tab. 5's "w/o T": DGFE weighs features by D itself, no binary map.
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='none'))))
