"""The threshold study (profile ``study``) and the ImageNet start's rows (profile ``imagenet``):
committed run records and the tables built from them, one :class:`~.design.Design` each
(:data:`DESIGNS`).

A run of 60 epochs takes 25-55 min of one core, so the study's 21 runs span several sittings and
machines. Each finished run leaves a **record** in ``docs/results/threshold_study/records/<run>.npz``
(:func:`write_record`): its evaluation record (metrics, D_b's coverage, final t), its training
summary (time, threads, commit; provenance for runs trained since it was recorded) and its test
detections, losslessly (float32, as the detector returns them), so that the image-level bootstrap
can pair it with any other run later. :func:`materialize` turns records back into the
``results/{train,eval}/<run>`` layout the tables read, and :func:`study_tables` compares the rows
with their references, seed by seed, and pools the references' runs over every source.

The rows were fixed before any ran; every one is reported, with "k of 3 seeds" until
complete. References: the baseline and SR-TOD (t = 40/255) of each :data:`SOURCES` entry: as
trained for this study (records, with detections: both intervals), and as published by the
60-epoch default at 79d673f (a frozen copy of its ``all_metrics.json``: metrics only, so the
seed-level interval alone). Which machine trained each run: :data:`MACHINES` (inferred from the
sittings), a run's own provenance, or its source's machine; every comparison says whether its runs
share one.

Modules: :mod:`~.design` (what is compared, fixed before any run), :mod:`~.records` (a run's
record), :mod:`~.compare` (the tables), :mod:`~.writeup` (markdown and figure), :mod:`~.build`
(records to ``study.md``, CSVs and figures).
"""

from .build import build_study, study_ground_truth
from .compare import (
    coverage_row,
    detection_changes,
    pooled_references,
    run_machines,
    study_tables,
    welch_interval,
)
from .design import (
    DESIGNS,
    IMAGENET_STUDY,
    MACHINES,
    PUBLISHED_PREFIX,
    REFERENCES,
    ROWS,
    SOURCES,
    STUDY_DIR,
    STUDY_METRICS,
    THRESHOLD_STUDY,
    Design,
    Source,
)
from .records import file_sha256, materialize, materialize_source, read_record, write_record
from .writeup import machine_legend, study_figure, study_markdown

__all__ = ["DESIGNS", "IMAGENET_STUDY", "THRESHOLD_STUDY", "Design", "MACHINES", "PUBLISHED_PREFIX", "REFERENCES", "ROWS", "SOURCES", "STUDY_DIR",
           "STUDY_METRICS", "Source", "build_study", "coverage_row", "detection_changes",
           "file_sha256", "machine_legend", "materialize", "materialize_source",
           "pooled_references", "read_record", "run_machines", "study_figure",
           "study_ground_truth", "study_markdown", "study_tables", "welch_interval",
           "write_record"]
