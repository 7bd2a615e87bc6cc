"""COCO AP of any multiset of test images, for the image-level bootstrap.

AP is not a mean over images, so a bootstrap replicate cannot average per-image scores. Instead
each image is matched once, with pycocotools' ``evaluateImg`` rules (detections in score order,
greedy best-IoU match per IoU threshold 0.50:0.95, crowd and area-range ignores, at most
``max(max_dets)`` detections per image and category); :meth:`ImageMatches.ap` then accumulates AP
(and :meth:`ImageMatches.ar` the per-bucket recall AR<bucket>) with each image weighted by how
often a replicate drew it. With unit weights this is the AP of
:func:`~srtod.evaluation.evaluate_coco`, and with integer weights the AP of a data set in which the
drawn images are repeated (both tested against faster-coco-eval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .inputs import Detections, DetsLike, GroundTruth, GtLike, load_detections, load_ground_truth
from .protocols import IOU_THRS, REC_THRS, Protocol, get_protocol


def _box_iou(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' bbox IoU (xywh): ``(D, G)``; a crowd gt divides by the detection's area."""
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    dx1, dy1 = dt[:, 0:1], dt[:, 1:2]
    dx2, dy2 = dx1 + dt[:, 2:3], dy1 + dt[:, 3:4]
    gx1, gy1 = gt[:, 0], gt[:, 1]
    gx2, gy2 = gx1 + gt[:, 2], gy1 + gt[:, 3]
    iw = np.clip(np.minimum(dx2, gx2) - np.maximum(dx1, gx1), 0, None)
    ih = np.clip(np.minimum(dy2, gy2) - np.maximum(dy1, gy1), 0, None)
    inter = iw * ih
    d_area = (dt[:, 2] * dt[:, 3])[:, None]
    union = np.where(crowd[None, :], d_area, d_area + (gt[:, 2] * gt[:, 3])[None, :] - inter)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def _match_image(ious: np.ndarray, gt_ignore: np.ndarray, crowd: np.ndarray,
                 thrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching of score-ordered detections to ground truth at every IoU threshold.

    ``ious`` is ``(D, G)`` with the ground truth ordered non-ignored first. Returns
    ``matched (T, D)`` and ``matched_ignored (T, D)`` (matched to an ignored gt). Follows
    ``COCOeval.evaluateImg``: a gt matched at a threshold is taken (unless crowd); an ignored gt
    is used only when no non-ignored gt qualifies; among equal IoUs the later gt wins.
    """
    T, (D, G) = len(thrs), ious.shape
    matched = np.zeros((T, D), dtype=bool)
    matched_ig = np.zeros((T, D), dtype=bool)
    if D == 0 or G == 0:
        return matched, matched_ig
    taken = np.zeros((T, G), dtype=bool)
    limit = np.minimum(thrs, 1 - 1e-10)[:, None]
    for d in np.flatnonzero(ious.max(axis=1) >= limit.min()):
        ok = (ious[d][None, :] >= limit) & (~taken | crowd[None, :])  # (T, G)
        for ignored in (False, True):
            cand = ok & (gt_ignore[None, :] == ignored)
            rows = cand.any(axis=1) & ~matched[:, d]
            if not rows.any():
                continue
            score = np.where(cand[rows], ious[d][None, :], -1.0)
            best = G - 1 - np.argmax(score[:, ::-1], axis=1)  # last of equal maxima
            t_idx = np.flatnonzero(rows)
            matched[t_idx, d] = True
            matched_ig[t_idx, d] = ignored
            taken[t_idx, best] = True
    return matched, matched_ig


def _iou_index(iou: float) -> int:
    """Index of ``iou`` among the matched IoU thresholds (0.50:0.95)."""
    t = np.flatnonzero(np.isclose(IOU_THRS, iou))
    if not t.size:
        raise ValueError(f"iou {iou} is not one of the matched thresholds {IOU_THRS.tolist()}")
    return int(t[0])


@dataclass
class ImageMatches:
    """Per-detection match flags of one model on one ground truth, for every area range.

    Arrays per area range ``a`` and category index ``k`` (keys ``(a, k)``): ``image`` (N,) image
    index of each detection, in pycocotools' accumulation order (image order, then score);
    ``score`` (N,); ``tp`` and ``fp`` (T, N); ``npig`` (I,) non-ignored ground truth per image.
    """

    protocol: Protocol
    num_images: int
    cat_ids: list[int]
    image: dict[tuple[int, int], np.ndarray]
    score: dict[tuple[int, int], np.ndarray]
    tp: dict[tuple[int, int], np.ndarray]
    fp: dict[tuple[int, int], np.ndarray]
    npig: dict[tuple[int, int], np.ndarray]

    def ap(self, weights: np.ndarray | None = None, area: str = "all",
           iou: float | None = None) -> float:
        """AP in percent with image ``i`` counted ``weights[i]`` times (default once each).

        ``area`` is a range key of the protocol (``all``, ``vt``, ...); ``iou`` one threshold
        (0.5 gives AP50) or None for the mean over 0.50:0.95. NaN without ground truth.
        """
        a, w = self._area_and_weights(area, weights)
        t_sel = slice(None) if iou is None else [_iou_index(iou)]
        per_cat = []
        for k in range(len(self.cat_ids)):
            npig = float(self.npig[a, k] @ w)
            if npig == 0:
                continue
            wd = w[self.image[a, k]]
            tp = np.cumsum(self.tp[a, k][t_sel] * wd, axis=1)
            fp = np.cumsum(self.fp[a, k][t_sel] * wd, axis=1)
            rc = tp / npig
            pr = tp / (fp + tp + np.spacing(1))
            pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # precision envelope
            q = np.zeros((len(pr), len(REC_THRS)))
            for t in range(len(pr)):
                idx = np.searchsorted(rc[t], REC_THRS, side="left")
                ok = idx < len(rc[t])
                q[t, ok] = pr[t, idx[ok]]
            per_cat.append(q.mean())
        return 100.0 * float(np.mean(per_cat)) if per_cat else float("nan")

    def ar(self, weights: np.ndarray | None = None, area: str = "all") -> float:
        """AR in percent (recall over IoU 0.50:0.95 and categories, at the matching's detection
        limit, as ``AR<bucket>``), image ``i`` counted ``weights[i]`` times. NaN without ground
        truth."""
        a, w = self._area_and_weights(area, weights)
        per_cat = []
        for k in range(len(self.cat_ids)):
            npig = float(self.npig[a, k] @ w)
            if npig:
                per_cat.append((self.tp[a, k] @ w[self.image[a, k]]).mean() / npig)
        return 100.0 * float(np.mean(per_cat)) if per_cat else float("nan")

    def hits(self, area: str = "all", iou: float = 0.5,
             score_thrs: Sequence[float] = (0.0,)) -> dict[str, np.ndarray]:
        """Counts at operating points, summed over categories: for each score threshold ``s``,
        ``tp`` the ground truth of ``area`` matched at ``iou`` by a detection scoring >= s,
        ``fp`` the detections scoring >= s that match nothing (pycocotools' area rule: an
        unmatched detection counts for the range its own area falls in), and ``n_gt`` the
        range's non-ignored ground truth."""
        a, _ = self._area_and_weights(area, None)
        t = _iou_index(iou)
        thrs = np.asarray(score_thrs, dtype=float)
        tp, fp, n_gt = np.zeros(len(thrs), int), np.zeros(len(thrs), int), 0
        for k in range(len(self.cat_ids)):
            above = self.score[a, k][None, :] >= thrs[:, None]  # (S, N)
            tp += (above & self.tp[a, k][t][None, :]).sum(axis=1)
            fp += (above & self.fp[a, k][t][None, :]).sum(axis=1)
            n_gt += int(self.npig[a, k].sum())
        return {"score_thr": thrs, "tp": tp, "fp": fp, "n_gt": np.full(len(thrs), n_gt)}

    def _area_and_weights(self, area: str, weights: np.ndarray | None) -> tuple[int, np.ndarray]:
        keys = [r.key for r in self.protocol.ranges]
        if area not in keys:
            raise KeyError(f"unknown area range {area!r}; protocol {self.protocol.name}: {keys}")
        w = np.ones(self.num_images) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (self.num_images,):
            raise ValueError(f"weights must have shape ({self.num_images},), got {w.shape}")
        return keys.index(area), w


def match_images(gt: GtLike | GroundTruth, dets: DetsLike | Detections,
                 protocol: str | Protocol = "aitod") -> ImageMatches:
    """Match ``dets`` to ``gt`` image by image (see module docstring) for :meth:`ImageMatches.ap`
    and :meth:`ImageMatches.ar`."""
    proto = get_protocol(protocol)
    gt = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
    dets = dets if isinstance(dets, Detections) else load_detections(dets, gt)
    max_det = max(proto.max_dets)
    img_index = {int(i): n for n, i in enumerate(gt.img_ids)}
    cat_index = {int(c): k for k, c in enumerate(gt.cat_ids)}
    n_img, n_cat = len(gt.img_ids), len(gt.cat_ids)
    gts: dict[tuple[int, int], list[dict]] = {}
    for ann in gt.annotations:
        gts.setdefault((img_index[ann["image_id"]], cat_index[ann["category_id"]]), []).append(ann)
    det_groups: dict[tuple[int, int], np.ndarray] = {}
    d_img = np.array([img_index[int(i)] for i in dets.image_id], dtype=np.int64)
    d_cat = np.array([cat_index[int(c)] for c in dets.category_id], dtype=np.int64)
    for j in np.lexsort((np.arange(len(dets)), d_cat, d_img)):
        det_groups.setdefault((int(d_img[j]), int(d_cat[j])), []).append(j)

    out = {name: {} for name in ("image", "score", "tp", "fp", "npig")}
    for a, rng in enumerate(proto.ranges):
        for k in range(n_cat):
            images, scores, tps, fps = [], [], [], []
            npig = np.zeros(n_img)
            for i in range(n_img):
                anns = gts.get((i, k), [])
                g_box = np.array([x["bbox"] for x in anns], dtype=float).reshape(-1, 4)
                g_area = np.array([x["area"] for x in anns], dtype=float)
                g_crowd = np.array([bool(x["iscrowd"]) for x in anns], dtype=bool)
                g_ig = g_crowd | (g_area < rng.lo) | (g_area > rng.hi)
                order = np.argsort(g_ig, kind="stable")  # non-ignored first
                g_box, g_crowd, g_ig = g_box[order], g_crowd[order], g_ig[order]
                npig[i] = np.count_nonzero(~g_ig)
                idx = np.asarray(det_groups.get((i, k), []), dtype=np.int64)
                idx = idx[np.argsort(-dets.score[idx], kind="stable")][:max_det]
                d_box = dets.bbox[idx]
                matched, matched_ig = _match_image(_box_iou(d_box, g_box, g_crowd), g_ig,
                                                   g_crowd, IOU_THRS)
                d_area = d_box[:, 2] * d_box[:, 3]
                outside = (d_area < rng.lo) | (d_area > rng.hi)
                ignore = matched_ig | (~matched & outside[None, :])
                images.append(np.full(len(idx), i))
                scores.append(dets.score[idx])
                tps.append(matched & ~ignore)
                fps.append(~matched & ~ignore)
            score = np.concatenate(scores) if scores else np.zeros(0)
            order = np.argsort(-score, kind="mergesort")
            out["image"][a, k] = np.concatenate(images).astype(np.int64)[order]
            out["score"][a, k] = score[order]
            out["tp"][a, k] = np.concatenate(tps, axis=1)[:, order]
            out["fp"][a, k] = np.concatenate(fps, axis=1)[:, order]
            out["npig"][a, k] = npig
    return ImageMatches(protocol=proto, num_images=n_img, cat_ids=gt.cat_ids.tolist(), **out)
