# Tab. 4's middle row (RH only) trained 1.5x longer: the convergence check of rh-only_srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py.
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_90e_synthetic-128.py'
model = dict(srtod=dict(dgfe=None))
