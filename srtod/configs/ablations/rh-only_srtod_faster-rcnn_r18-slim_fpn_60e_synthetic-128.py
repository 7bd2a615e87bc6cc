# Tab. 4's middle row: the reconstruction head and its loss, no DGFE (no enhancement).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=None))
