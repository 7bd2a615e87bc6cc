# DetectoRS (Qiao et al., CVPR 2021) as the paper's Tab. 1 row "DetectoRS": Cascade R-CNN with the
# recursive feature pyramid (RFP: the backbone runs twice, the second pass fed back the first
# pass's pyramid through ASPP) and switchable atrous convolution (SAC, deformable) in stages 2-4,
# with weight standardisation (ConvAWS); MMDetection's settings
# (configs/detectors/detectors_cascade-rcnn_r50_1x_coco.py), no semantic branch. A config reads
# these variables and sets the channel counts of its backbone.
detectors_convs = dict(type='DetectoRS_ResNet', conv_cfg=dict(type='ConvAWS'),
                       sac=dict(type='SAC', use_deform=True),
                       stage_with_sac=(False, True, True, True))
detectors_rfp = dict(type='RFP', rfp_steps=2, aspp_dilations=(1, 3, 6, 1))
