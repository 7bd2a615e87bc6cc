# Cascade R-CNN with RFLA (Tab. 1 "RFLA"), paper setting: the Cascade R-CNN config of this data set
# with receptive-field priors of ResNet-50 (measured: 35, 91, 267, 427, 555 px on P2-P6, the
# official values) and the hierarchical label assigner in the RPN.
_base_ = ['../cascade_rcnn/cascade-rcnn_r50_fpn_12e_aitod.py', '../_base_/models/rfla.py']
model = dict(
    rpn_head=dict(anchor_generator=dict(_base_.rfla_priors, _delete_=True,
                                        backbone=_base_.model.backbone)),
    train_cfg=dict(rpn=dict(assigner=dict(_base_.rfla_assigner, _delete_=True))))
