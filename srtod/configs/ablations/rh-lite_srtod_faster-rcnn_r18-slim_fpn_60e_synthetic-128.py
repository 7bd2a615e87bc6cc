# SR-TOD at the baseline's cost (issue 13): the cheap reconstruction head, full resolution.
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(recon_head=dict(type='LiteReconstructionHead')))
