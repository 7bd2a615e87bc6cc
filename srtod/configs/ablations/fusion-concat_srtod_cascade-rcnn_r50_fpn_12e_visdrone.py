# Tab. 6's "Concat": the binary map is concatenated to the features and fused by a 1x1 conv.
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_visdrone.py'
model = dict(srtod=dict(dgfe=dict(fusion='concat')))
