# The cheap reconstruction head at quarter resolution (D upsampled 4x).
_base_ = '../faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py'
model = dict(srtod=dict(recon_head=dict(type='LiteReconstructionHead', out_stride=4)))
