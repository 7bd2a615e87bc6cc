# t that learns: sign() passes its gradient straight through (the paper's learnable t gets none).
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_visdrone.py'
model = dict(srtod=dict(dgfe=dict(threshold=dict(mode='learnable_ste'))))
