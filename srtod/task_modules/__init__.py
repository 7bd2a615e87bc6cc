"""Label-assignment parts for tiny objects in mmdet's ``TASK_UTILS`` registry (imported by the
configs' ``custom_imports``): RFLA's receptive-field priors, distance and assigner."""

from .rfla import (
    HierarchicalAssigner,
    RFDistance,
    RFPriorGenerator,
    gaussian_kld,
    measure_receptive_fields,
    receptive_fields,
)

__all__ = ["HierarchicalAssigner", "RFDistance", "RFPriorGenerator", "gaussian_kld",
           "measure_receptive_fields", "receptive_fields"]
