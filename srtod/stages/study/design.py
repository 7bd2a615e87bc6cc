"""What a study compares, fixed before any of its runs trained: the rows, the references, the
sources of reference runs and the metrics. Two studies share the machinery: the threshold study
(:data:`THRESHOLD_STUDY`, on the default's setting) and the ImageNet start's rows at 128 and 256
px (:data:`IMAGENET_STUDY`, :data:`IMAGENET_256_STUDY`, docs/results/imagenet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...paths import DOCS_RESULTS, study_records
from ..tables import COMPARE_METRICS

#: (label, experiment, what changes from the published SR-TOD default), fixed before any ran
ROWS = (
    ("RH only (Tab. 4's middle row)", "rh_only", "no DGFE"),
    ("SR-TOD, t measured, fixed", "thr_measured", "t"),
    ("SR-TOD, adaptive t (per-image quantile of D)", "thr_quantile", "t follows D"),
    ("SR-TOD, straight-through learned t", "thr_ste", "t learns"),
    ("SR-TOD, no threshold (D used directly)", "thr_none", "no binarization"),
)
#: (label, experiment) of the references, run by every source
REFERENCES = (("baseline", "faster_rcnn"), ("SR-TOD t = 40/255", "faster_rcnn_srtod"))
STUDY_DIR = study_records().parent
#: which machine trained each of the study's runs, inferred from the sittings (``run, machine,
#: sitting, evidence``; docs/results/threshold_study/README.md says how)
MACHINES = STUDY_DIR / "machines.csv"


@dataclass(frozen=True)
class Source:
    """Where a set of reference runs comes from.

    ``label`` names it in the tables; ``prefix`` starts its runs' names once materialized;
    ``folder`` holds a published default's ``all_metrics.json`` (and ``runs.csv``,
    ``provenance.json`` when kept), None for the study's own records; ``machine`` is the machine
    that trained all its runs, for runs whose provenance does not name one, and ``machine_note``
    says what it is; ``pooled``: its runs enter the pooled references."""

    label: str
    prefix: str
    folder: Path | None = None
    machine: str | None = None
    machine_note: str = ""
    pooled: bool = True


#: the sources of the references; a published default joins the study with one more entry (a
#: frozen copy of its docs/results/default files in a folder of its own, and a prefix)
SOURCES = (
    Source("this study", ""),
    Source("published 79d673f", "published_", STUDY_DIR / "published_79d673f", machine="P",
           machine_note="the machine that trained the default published at 79d673f (one make "
                        "repro, 2026-11-27)"),
)
PUBLISHED_PREFIX = SOURCES[1].prefix


@dataclass(frozen=True)
class Design:
    """One study: ``rows`` (label, experiment, what changes) each compared, paired by seed, with
    both ``references`` ((label, experiment) of the baseline, then of SR-TOD at t = 40/255) of
    every source; the runs of ``profile`` (whose data the records were scored on), recorded in
    ``folder/records``; its tables in ``folder/subfolder``; ``machines``: the machine of each run
    inferred from the sittings, where the runs' provenance does not name it (None: none
    inferred)."""

    name: str
    title: str
    profile: str
    folder: Path
    rows: tuple[tuple[str, str, str], ...]
    references: tuple[tuple[str, str], tuple[str, str]]
    sources: tuple[Source, ...] = field(default=(Source("this study", ""),))
    machines: Path | None = None
    subfolder: str = ""

    @property
    def records(self) -> Path:
        """The committed run records, ``<folder>/records``."""
        return self.folder / "records"

    @property
    def tables(self) -> Path:
        """Where its tables and figures are written, ``<folder>/<subfolder>``."""
        return self.folder / self.subfolder

    @property
    def own(self) -> Source:
        """The source whose runs the study trained itself (no prefix)."""
        return next(src for src in self.sources if not src.prefix)


THRESHOLD_STUDY = Design("threshold", "Threshold study", "study", STUDY_DIR, ROWS, REFERENCES,
                         SOURCES, MACHINES)
IMAGENET_FOLDER = DOCS_RESULTS / "imagenet"


def imagenet_design(size: int, suffix: str) -> Design:
    """The ImageNet start's rows (docs/results/imagenet/README.md, fixed before any ran) at
    ``size`` px and 18 epochs, the schedule its convergence check chose: the experiments
    ``mnv2_<row><suffix>``, their tables in ``rows_<size>px``."""
    return Design(
        f"imagenet-{size}", f"ImageNet start (MobileNetV2, {size} px, 18 epochs)", "imagenet",
        IMAGENET_FOLDER,
        rows=(("RH only", f"mnv2_rh_only{suffix}", "no DGFE"),
              ("SR-TOD, t measured, fixed", f"mnv2_thr_measured{suffix}", "t")),
        references=(("baseline", f"mnv2_faster_rcnn{suffix}"),
                    ("SR-TOD t = 40/255", f"mnv2_faster_rcnn_srtod{suffix}")),
        sources=(Source("this benchmark", ""),), subfolder=f"rows_{size}px")


#: at 128 px (``*_long``), trained before the size check chose 256 px; at 256 px (``*_256_18e``)
IMAGENET_STUDY = imagenet_design(128, "_long")
IMAGENET_256_STUDY = imagenet_design(256, "_256_18e")
DESIGNS = {d.name: d for d in (THRESHOLD_STUDY, IMAGENET_STUDY, IMAGENET_256_STUDY)}
#: the compared metrics: the benchmark's, and AP75 beside AP50 (a change of AP that AP50 does not
#: show is one of localization, not of drones found)
STUDY_METRICS = (*COMPARE_METRICS[:2], "AP75", *COMPARE_METRICS[2:])
#: where the detections changed: size buckets and score thresholds (IoU 0.5)
CHANGE_BUCKETS, CHANGE_SCORES = ("vt", "t"), (0.05, 0.3, 0.5)
