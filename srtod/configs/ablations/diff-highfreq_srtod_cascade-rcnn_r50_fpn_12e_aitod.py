# Tab. 7's "HFD": the high-frequency difference map instead of the pixel difference map.
_base_ = '../cascade_rcnn/srtod_cascade-rcnn_r50_fpn_12e_aitod.py'
model = dict(srtod=dict(diff_map=dict(kind='highfreq')))
