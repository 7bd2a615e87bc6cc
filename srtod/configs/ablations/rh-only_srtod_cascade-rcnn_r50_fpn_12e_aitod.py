# Tab. 4's middle row: the reconstruction head and its loss, no DGFE (no enhancement).
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_aitod.py'
model = dict(srtod=dict(dgfe=None))
