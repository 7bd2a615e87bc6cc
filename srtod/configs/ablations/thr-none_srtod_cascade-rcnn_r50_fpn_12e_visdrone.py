# Tab. 5's "w/o T": DGFE weighs features by D itself, no binary map.
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_visdrone.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='none'))))
