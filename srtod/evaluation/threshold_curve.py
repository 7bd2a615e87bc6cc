"""What a threshold t makes of the difference map D: the curve that chooses t (paper Eq. 4).

``D_b = (Sign(D - t) + 1) / 2`` switches a pixel on where ``D > t``. For every t of a grid this
module measures, over a set of images with ground-truth boxes:

* ``background_on``: the share of background pixels (outside every box) switched on;
* ``mask_share``: the share of all pixels switched on;
* per AI-TOD size bucket, ``touched_<b>``: the share of boxes with at least one pixel on (a box is
  touched iff its peak D exceeds t), and ``covered_<b>``: the mean share of a box's pixels on.

Boxes own pixels as in :mod:`srtod.evaluation.coverage`. Everything is accumulated image by image
in integer counts on the grid, so a whole training split fits in memory and the curve is exact at
the grid's values.

**The recommended t** (:func:`recommend`): the t of the grid that maximises
``touched_vt - background_on``, Youden's J of the curve (the point farthest above the diagonal of
the "boxes touched against background on" curve); ties go to the larger t. The adaptive threshold
of the same coverage switches on ``1 - q`` of each image, ``q = 1 - mask_share(t*)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .coverage import box_pixels, union_mask
from .protocols import AITOD_BUCKET_KEYS, AITOD_SIDE_EDGES

#: The paper's thresholds (Sec. 4.2 and the official configs), in the units of D (intensities in
#: [0, 1]).
PAPER_THRESHOLDS = {"DroneSwarms": 40 / 255, "VisDrone2019": 4 / 255, "AI-TOD": 3 / 255}
#: The default grid: 0 to 80/255 in steps of 0.25/255.
DEFAULT_GRID = np.arange(0, 321) / (4 * 255)


@dataclass
class ThresholdCurve:
    """Accumulates D over images (:meth:`add`) and gives the curve (:meth:`table`)."""

    grid: np.ndarray = field(default_factory=lambda: DEFAULT_GRID.copy())
    side_edges: Sequence[float] = AITOD_SIDE_EDGES
    bucket_keys: Sequence[str] = AITOD_BUCKET_KEYS

    def __post_init__(self) -> None:
        self.grid = np.asarray(self.grid, dtype=np.float64)
        if self.grid.ndim != 1 or self.grid.size < 2 or (np.diff(self.grid) <= 0).any():
            raise ValueError("threshold grid must be increasing, with at least two values")
        nb, ng = len(self.bucket_keys), self.grid.size
        self._bg_hist = np.zeros(ng + 1, dtype=np.int64)  # bin i: grid[i-1] < D <= grid[i]
        self._all_hist = np.zeros(ng + 1, dtype=np.int64)
        self._touched = np.zeros((nb, ng), dtype=np.int64)
        self._covered = np.zeros((nb, ng), dtype=np.float64)
        self.n_boxes = np.zeros(nb, dtype=np.int64)
        self.peaks: list[list[float]] = [[] for _ in range(nb)]
        self.n_images = 0

    def _bins(self, values: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.grid, values, side="left")

    def _above(self, hist: np.ndarray) -> np.ndarray:
        """Counts of values > grid[j] for every j, from a histogram of bin indices."""
        return hist[::-1].cumsum()[::-1][1:]

    def add(self, dmap: np.ndarray, boxes: Any) -> None:
        """One image: its D (H x W, float) and its boxes ``[x, y, w, h]`` in D's pixels."""
        d = np.asarray(dmap, dtype=np.float64)
        if d.ndim != 2:
            raise ValueError(f"difference map #{self.n_images} must be 2-D, got shape {d.shape}")
        if not np.isfinite(d).all():
            raise ValueError(f"difference map #{self.n_images} holds NaN or infinite values")
        height, width = d.shape
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        extents = box_pixels(boxes, height, width)
        bins = self._bins(d)
        ng = self.grid.size
        self._all_hist += np.bincount(bins.ravel(), minlength=ng + 1)
        background = ~union_mask(extents, height, width)
        self._bg_hist += np.bincount(bins[background], minlength=ng + 1)
        side = np.sqrt(boxes[:, 2] * boxes[:, 3])
        buckets = np.searchsorted(np.asarray(self.side_edges), side, side="right")
        for r0, r1, c0, c1, b in zip(*extents, buckets, strict=True):
            if r1 <= r0 or c1 <= c0:  # wholly outside the image
                continue
            box_bins = bins[r0:r1, c0:c1].ravel()
            above = self._above(np.bincount(box_bins, minlength=ng + 1))
            self.n_boxes[b] += 1
            self._touched[b] += above > 0
            self._covered[b] += above / box_bins.size
            self.peaks[b].append(float(d[r0:r1, c0:c1].max()))
        self.n_images += 1

    def table(self) -> pd.DataFrame:
        """The curve, one row per t: ``t``, ``t255`` (t x 255), ``background_on``,
        ``mask_share``, ``touched_<b>`` and ``covered_<b>`` per bucket (AI-TOD's ``vt``, ``t``,
        ``s``, ``m``) (NaN where a bucket has no box)."""
        def share(num, den):
            return num / den if den else np.full(self.grid.size, np.nan)

        df = pd.DataFrame({"t": self.grid, "t255": self.grid * 255,
                           "background_on": share(self._above(self._bg_hist),
                                                  self._bg_hist.sum()),
                           "mask_share": share(self._above(self._all_hist),
                                               self._all_hist.sum())})
        for b, key in enumerate(self.bucket_keys):
            df[f"touched_{key}"] = share(self._touched[b], self.n_boxes[b])
            df[f"covered_{key}"] = share(self._covered[b], self.n_boxes[b])
        return df

    def distribution(self, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict:
        """Quantiles of D: of each bucket's box peaks (exact) and of background pixels (to the
        grid: the smallest grid value with at least that share of pixels at or below it)."""
        out: dict[str, Any] = {}
        for b, key in enumerate(self.bucket_keys):
            peaks = np.asarray(self.peaks[b])
            out[f"peak_{key}"] = (
                {str(q): float(np.quantile(peaks, q)) for q in quantiles} if peaks.size else None)
        total = self._bg_hist.sum()
        if total:
            below = self._bg_hist.cumsum() / total
            out["background"] = {
                str(q): (float(self.grid[min(int(np.searchsorted(below, q)), self.grid.size - 1)])
                         if np.searchsorted(below, q) < self.grid.size else None)
                for q in quantiles + (0.99, 0.999)}
        return out


def recommend(curve: pd.DataFrame, bucket: str = "vt") -> dict[str, float]:
    """The recommended t of a curve (:meth:`ThresholdCurve.table`): the largest t maximising
    ``touched_<bucket> - background_on`` (Youden's J), with its coverage and the quantile
    ``q = 1 - mask_share`` of the adaptive threshold that switches on the same share."""
    j = curve[f"touched_{bucket}"] - curve["background_on"]
    if j.isna().all():
        raise ValueError(f"no box of bucket {bucket!r}: the rule has nothing to maximise")
    best = j[j == j.max()].index[-1]
    row = curve.loc[best]
    return {"t": float(row["t"]), "t255": float(row["t255"]), "youden_j": float(j[best]),
            "quantile": round(1 - float(row["mask_share"]), 4),
            **{k: float(row[k]) for k in curve.columns if k not in ("t", "t255")}}


def row_at(curve: pd.DataFrame, t: float) -> dict[str, float]:
    """The curve's row at the grid value nearest ``t`` (exact when ``t`` is on the grid:
    :func:`grid_with`)."""
    return {k: float(v) for k, v in curve.loc[(curve["t"] - t).abs().idxmin()].items()}


def grid_with(values: Iterable[float], grid: np.ndarray = DEFAULT_GRID) -> np.ndarray:
    """``grid`` with ``values`` added (sorted, duplicates removed): their rows are then exact."""
    return np.unique(np.concatenate([np.asarray(grid, dtype=np.float64),
                                     np.asarray(list(values), dtype=np.float64)]))


def measure(dmaps: Iterable[np.ndarray], boxes: Iterable[Any],
            grid: np.ndarray | None = None) -> ThresholdCurve:
    """A :class:`ThresholdCurve` of ``dmaps`` and their ``boxes`` (one array-like per image)."""
    curve = ThresholdCurve(grid=DEFAULT_GRID if grid is None else grid)
    for d, b in zip(dmaps, boxes, strict=True):
        curve.add(d, b)
    return curve
