# RFLA (Xu et al., ECCV 2022) in the RPN of a two-stage detector, as the paper's Tab. 1 row "RFLA"
# (Cascade R-CNN): receptive-field priors on P2-P6 and the hierarchical label assigner, with the
# official code's values (srtod/task_modules/rfla.py). A config reads these variables and adds the
# backbone whose receptive fields the priors measure.
rfla_priors = dict(type='RFPriorGenerator', strides=[4, 8, 16, 32, 64], fraction=0.5)
rfla_assigner = dict(type='HierarchicalAssigner', topk=(3, 1), ratio=0.9, neg_thr=0.8,
                     ignore_iof_thr=-1)
