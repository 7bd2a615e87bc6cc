# Tab. 5's "fixed T": t stays at the data set's initial value (a buffer, not a parameter).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='fixed'))))
