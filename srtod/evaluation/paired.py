"""Paired comparison of two methods trained over the same seeds and tested on the same images.

Two 95% confidence intervals for the mean difference (method - baseline) of a metric:

* **seed level**: Student's t-interval over the per-seed differences (run-to-run variation of
  training; n - 1 degrees of freedom);
* **image level**: a paired bootstrap over test images (sampling variation of the test set). Each
  replicate draws the test images with replacement, once for all runs, recomputes every run's AP on
  the drawn multiset (:class:`~srtod.evaluation.bootstrap.ImageMatches`) and takes the mean over
  seeds of the differences; the interval is the percentile interval of the replicates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .bootstrap import ImageMatches


def _ap(area: str, iou: float | None = None):
    return lambda m, w: m.ap(w, area=area, iou=iou)


def _ar(area: str):
    return lambda m, w: m.ar(w, area=area)


#: metric name -> its value for (ImageMatches, image weights): an AP of an area range (at one IoU
#: threshold, or averaged over 0.50:0.95), or an AR (0.50:0.95, at the protocol's AP detection limit)
METRICS = {"AP": _ap("all"), "AP50": _ap("all", 0.5), "AP75": _ap("all", 0.75),
           "APvt": _ap("vt"), "APt": _ap("t"), "APs": _ap("s"), "APm": _ap("m"),
           "ARvt": _ar("vt"), "ARt": _ar("t"), "ARs": _ar("s"), "ARm": _ar("m")}


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student's t confidence interval of the mean of ``values``.

    NaN bounds for fewer than two values (no spread to estimate).
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return mean, float(mean - half), float(mean + half)


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(median, low, high): the distribution-free interval of the median from order statistics.

    ``[x_(k), x_(n+1-k)]`` of the sorted values, with the largest k whose coverage
    ``1 - 2 P(Binomial(n, 1/2) < k)`` is still >= ``confidence`` (for n = 7: the min and max,
    98.4%; n = 15: the 4th and 12th, 96.5%). NaN bounds when even the range is too narrow (n < 6).
    """
    from scipy import stats

    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    median = float(np.median(x)) if n else float("nan")
    k = 0
    while k + 1 <= n // 2 and 1 - 2 * stats.binom.cdf(k, n, 0.5) >= confidence:
        k += 1
    if k == 0:
        return median, float("nan"), float("nan")
    return median, float(x[k - 1]), float(x[n - k])


def metric_of(matches: ImageMatches, metric: str, weights: np.ndarray | None = None) -> float:
    """One summary metric (``AP``, ``AP50``, ``APvt``, ...) of ``matches`` under image weights."""
    if metric not in METRICS:
        raise KeyError(f"no bootstrap for metric {metric!r}; choose one of {sorted(METRICS)}")
    return METRICS[metric](matches, weights)


def bootstrap_differences(baseline: Sequence[ImageMatches], method: Sequence[ImageMatches],
                          metric: str, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``n_boot`` replicates of the mean over seeds of ``metric(method) - metric(baseline)``.

    ``baseline[i]`` and ``method[i]`` are the runs of seed ``i`` on the same test images.
    """
    if len(baseline) != len(method) or not baseline:
        raise ValueError(f"need the same positive number of baseline and method runs, got "
                         f"{len(baseline)} and {len(method)}")
    n = baseline[0].num_images
    if any(m.num_images != n for m in (*baseline, *method)):
        raise ValueError("all runs must be evaluated on the same test images")
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        out[b] = np.mean([metric_of(m, metric, w) - metric_of(a, metric, w)
                          for a, m in zip(baseline, method, strict=True)])
    return out


def percentile_interval(replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval of ``replicates`` (NaN replicates dropped)."""
    r = np.asarray(replicates, dtype=float)
    r = r[~np.isnan(r)]
    if r.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(r, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi)


def verdict(low: float, high: float) -> str:
    """In words: does the interval exclude 0, and on which side?"""
    if np.isnan(low) or np.isnan(high):
        return "no interval"
    if low > 0:
        return "better (CI excludes 0)"
    if high < 0:
        return "worse (CI excludes 0)"
    return "no effect measured (CI includes 0)"
