# Tab. 6's "EM": the binary map multiplies the features (no channel attention).
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_visdrone.py'
model = dict(srtod=dict(dgfe=dict(fusion='multiply')))
