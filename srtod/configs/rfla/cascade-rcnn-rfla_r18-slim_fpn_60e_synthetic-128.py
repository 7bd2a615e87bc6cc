# Cascade R-CNN with RFLA (Tab. 1 "RFLA"), slim CPU model: the RPN's anchors become receptive-field
# priors of the slim backbone (measured: 43, 99, 211, 435 px on C2-C5) and its IoU assigner the
# hierarchical label assigner.
_base_ = ['../cascade_rcnn/cascade-rcnn_r18-slim_fpn_60e_synthetic-128.py', '../_base_/models/rfla.py']
model = dict(
    rpn_head=dict(anchor_generator=dict(_base_.rfla_priors, _delete_=True,
                                        backbone=_base_.model.backbone)),
    train_cfg=dict(rpn=dict(assigner=dict(_base_.rfla_assigner, _delete_=True))))
