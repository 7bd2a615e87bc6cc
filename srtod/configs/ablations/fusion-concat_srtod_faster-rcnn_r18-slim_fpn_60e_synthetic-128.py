# Tab. 6's "Concat": the binary map is concatenated to the features and fused by a 1x1 conv.
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(fusion='concat')))
