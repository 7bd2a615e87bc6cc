# Tab. 6's "EM": the binary map multiplies the features (no channel attention).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(fusion='multiply')))
