# t that learns: sign() passes its gradient straight through (the paper's learnable t gets none).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='learnable_ste'))))
