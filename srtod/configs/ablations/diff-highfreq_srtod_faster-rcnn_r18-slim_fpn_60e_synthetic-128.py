# Tab. 7's "HFD": the high-frequency difference map instead of the pixel difference map.
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(diff_map=dict(kind='highfreq')))
