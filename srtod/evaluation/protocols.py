"""Evaluation protocols: area ranges, detection limits and the metric names derived from them.

``aitod`` follows the AI-TOD evaluator (Wang et al., "Tiny Object Detection in Aerial Images",
ICPR 2020; the ``aitodpycocotools`` fork of pycocotools): area ranges on the ground truth's
``area`` field (px^2) all [0, 1e10], very tiny [0, 8^2], tiny [8^2, 16^2], small [16^2, 32^2],
medium [32^2, 1e10]; maxDets (100, 300, 1500) and every AP at 1500 detections. ``coco`` is the
MS COCO protocol (small/medium/large, maxDets 1, 10, 100) and ``visdrone`` the VisDrone2019-DET
toolkit's (COCO area ranges, maxDets 1, 10, 100, 500, AP at 500).

As in pycocotools, a ground truth belongs to a range when ``lo <= area <= hi`` (both ends
inclusive, so an object of area exactly 64 counts as very tiny *and* tiny).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Upper area bound of the open-ended ranges, as in pycocotools (1e5 ** 2).
MAX_AREA = 1e10

#: pycocotools' IoU thresholds 0.50:0.05:0.95 (linspace, not arange: see pycocotools' Params).
IOU_THRS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
#: pycocotools' 101 recall points 0:0.01:1.
REC_THRS = np.linspace(0.0, 1.0, int(np.round((1.0 - 0.0) / 0.01)) + 1, endpoint=True)


@dataclass(frozen=True)
class AreaRange:
    """One size bucket: ``key`` names metrics (``AP{key}``), ``label`` is the evaluator's name."""

    key: str
    label: str
    lo: float
    hi: float


@dataclass(frozen=True)
class Protocol:
    """What to evaluate: area ranges (``ranges[0]`` is always ``all``) and detection limits.

    ``ap_max_dets`` is the detection limit every AP and every per-bucket AR is computed at; the
    overall AR is reported once per entry of ``max_dets`` (``AR@<n>``).
    """

    name: str
    ranges: tuple[AreaRange, ...]
    max_dets: tuple[int, ...]
    ap_max_dets: int

    def __post_init__(self) -> None:
        if not self.ranges or self.ranges[0].key != "all":
            raise ValueError("the first area range of a protocol must be 'all'")
        if self.ap_max_dets not in self.max_dets:
            raise ValueError(f"ap_max_dets={self.ap_max_dets} is not one of {self.max_dets}")
        if list(self.max_dets) != sorted(set(self.max_dets)):
            raise ValueError("max_dets must be strictly increasing")

    @property
    def buckets(self) -> tuple[AreaRange, ...]:
        """The size buckets without ``all``."""
        return self.ranges[1:]

    @property
    def area_rng(self) -> list[list[float]]:
        """``params.areaRng`` for pycocotools-compatible evaluators."""
        return [[r.lo, r.hi] for r in self.ranges]

    @property
    def area_rng_lbl(self) -> list[str]:
        """``params.areaRngLbl`` for pycocotools-compatible evaluators."""
        return [r.label for r in self.ranges]

    @property
    def metric_names(self) -> list[str]:
        """Names of the summary metrics, in report order."""
        names = ["AP", "AP50", "AP75"] + [f"AP{r.key}" for r in self.buckets]
        names += [f"AR@{n}" for n in self.max_dets] + [f"AR{r.key}" for r in self.buckets]
        return names


def _ranges(*spec: tuple[str, str, float, float]) -> tuple[AreaRange, ...]:
    return (AreaRange("all", "all", 0.0, MAX_AREA),) + tuple(AreaRange(*s) for s in spec)


#: AI-TOD size buckets (paper Sec. 4.1), the one definition: edges on sqrt(area) in px, very tiny
#: < 8 <= tiny < 16 <= small < 32 <= medium; their keys and names. The evaluation ranges below,
#: the data statistics (:mod:`srtod.data.stats`) and the plots (:mod:`srtod.viz`) derive from it.
AITOD_SIDE_EDGES: tuple[float, ...] = (8.0, 16.0, 32.0)
AITOD_BUCKET_KEYS: tuple[str, ...] = ("vt", "t", "s", "m")
AITOD_BUCKET_NAMES: tuple[str, ...] = ("very tiny", "tiny", "small", "medium")


def aitod_side_buckets() -> list[tuple[str, str, float, float]]:
    """(key, name, lower, upper) per AI-TOD bucket on sqrt(area) in px; the last has no upper
    bound (``math.inf``)."""
    import math

    edges = (0.0, *AITOD_SIDE_EDGES, math.inf)
    return [(k, n, edges[i], edges[i + 1])
            for i, (k, n) in enumerate(zip(AITOD_BUCKET_KEYS, AITOD_BUCKET_NAMES, strict=True))]


_COCO_RANGES = _ranges(
    ("s", "small", 0.0, 32.0**2),
    ("m", "medium", 32.0**2, 96.0**2),
    ("l", "large", 96.0**2, MAX_AREA),
)

PROTOCOLS: dict[str, Protocol] = {
    "aitod": Protocol(
        name="aitod",
        ranges=_ranges(*[(k, n.replace(" ", ""), lo**2, min(hi**2, MAX_AREA))
                         for k, n, lo, hi in aitod_side_buckets()]),
        max_dets=(100, 300, 1500),
        ap_max_dets=1500,
    ),
    "coco": Protocol(name="coco", ranges=_COCO_RANGES, max_dets=(1, 10, 100), ap_max_dets=100),
    "visdrone": Protocol(
        name="visdrone", ranges=_COCO_RANGES, max_dets=(1, 10, 100, 500), ap_max_dets=500
    ),
}



def get_protocol(protocol: str | Protocol) -> Protocol:
    """Return the protocol named ``protocol`` (``aitod``, ``coco``, ``visdrone``) or pass it on."""
    if isinstance(protocol, Protocol):
        return protocol
    try:
        return PROTOCOLS[str(protocol).lower()]
    except KeyError:
        raise ValueError(
            f"unknown evaluation protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}"
        ) from None
