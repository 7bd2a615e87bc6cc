# Tab. 5's "fixed T": t stays at the data set's initial value (a buffer, not a parameter).
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_aitod.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='fixed'))))
