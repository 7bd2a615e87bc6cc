"""srtod's sliced inference against SAHI's (issue 28, ``benchmarks/bench_sahi.py``): the same
windows, and on a planted frame the same merged detections when both run the same detector.

The detector is planted (white and grey squares found by connected components in whatever crop
it gets, scored by their visible area), so that the comparison is fast and exact: every
difference would come from slicing, shifting, the full-frame pass, thresholding or merging.
Skipped where sahi is not installed (``pip install --no-deps -r requirements/sahi.txt``).
"""

import numpy as np
import pytest

sahi = pytest.importorskip("sahi", reason="sahi is not installed (requirements/sahi.txt)")


def _blobs(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The planted detector: each bright square's box, score 0.2 + area / 1000 (a square cut by
    the crop's border scores lower than the whole one), label 0 for white, 1 for grey."""
    import cv2

    boxes, scores, labels = [], [], []
    for label, (lo, hi) in enumerate(((200, 256), (100, 160))):
        mask = ((bgr[..., 0] >= lo) & (bgr[..., 0] < hi)).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        for x, y, w, h, area in stats[1:n]:
            boxes.append([x, y, x + w, y + h])
            scores.append(0.2 + area / 1000)
            labels.append(label)
    return (np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
            np.array(labels, np.int64))


def _planted_frame(seed: int = 0) -> np.ndarray:
    """A 300 x 500 frame with 60 squares of 4-20 px, some across the slices' borders."""
    rng = np.random.default_rng(seed)
    img = np.zeros((300, 500, 3), np.uint8)
    for _ in range(60):
        s = int(rng.integers(4, 21))
        x, y = int(rng.integers(0, 500 - s)), int(rng.integers(0, 300 - s))
        img[y:y + s, x:x + s] = 255 if rng.random() < 0.6 else 128
    return img


def _srtod_detector(score_thr: float):
    from srtod.predictor import Detector

    class Planted(Detector):
        def __init__(self):  # no model: the planted detector instead of a forward pass
            self.score_thr, self.onnx, self.is_srtod = score_thr, None, False

        def _forward(self, images, want_maps):
            out = []
            for img in images:
                b, s, lab = _blobs(img)
                keep = s >= self.score_thr
                out.append((b[keep], s[keep], lab[keep], {}))
            return out

    return Planted()


def _sahi_model(score_thr: float):
    from sahi.models.base import DetectionModel
    from sahi.prediction import ObjectPrediction

    class Planted(DetectionModel):
        def load_model(self):
            self.set_model("planted")

        def set_model(self, model, **kwargs):
            self.model = model
            self.category_mapping = {"0": "white", "1": "grey"}

        def perform_inference(self, image):
            self._original_predictions = [_blobs(np.ascontiguousarray(image[..., ::-1]))]

        def _create_object_prediction_list_from_original_predictions(
                self, shift_amount_list=[[0, 0]], full_shape_list=None):  # noqa: B006 (SAHI's)
            shifts = shift_amount_list if isinstance(shift_amount_list[0], list) \
                else [shift_amount_list]
            shapes = full_shape_list if full_shape_list and isinstance(full_shape_list[0], list) \
                else [full_shape_list]
            per_image = []
            for (b, s, lab), shift, shape in zip(self._original_predictions, shifts, shapes,
                                                  strict=True):
                per_image.append([
                    ObjectPrediction(bbox=box.tolist(), category_id=int(c),
                                     category_name=self.category_mapping[str(c)],
                                     score=float(sc), shift_amount=shift, full_shape=shape)
                    for box, sc, c in zip(b, s, lab, strict=True)
                    if sc >= self.confidence_threshold])
            self._object_prediction_list_per_image = per_image

    return Planted(confidence_threshold=score_thr, device="cpu")


def test_slice_windows_are_sahis():
    from sahi.slicing import get_slice_bboxes

    from srtod.sliced_inference import SliceConfig, slice_windows

    rng = np.random.default_rng(0)
    cases = [(1080, 1920, 128, 128, 0.2), (1080, 1920, 128, 128, 0.25), (300, 500, 64, 80, 0.3),
             (100, 90, 128, 128, 0.2), (256, 256, 128, 128, 0.0)]
    cases += [(int(rng.integers(1, 700)), int(rng.integers(1, 700)), int(rng.integers(1, 300)),
               int(rng.integers(1, 300)), float(rng.uniform(0, 0.95))) for _ in range(300)]
    for h, w, sh, sw, overlap in cases:
        want = [tuple(b) for b in get_slice_bboxes(h, w, sh, sw, False, overlap, overlap)]
        assert slice_windows(h, w, SliceConfig(sh, sw, overlap=overlap)) == want, (h, w, sh, sw,
                                                                                 overlap)


@pytest.mark.parametrize("metric", ["ios", "iou"])
def test_sliced_detections_equal_sahis_on_a_planted_frame(metric):
    """64 x 64 slices, overlap 0.25, the full-frame pass, class-wise NMS at 0.5: srtod (slices
    batched by 3) keeps exactly SAHI's boxes, scores and labels."""
    from sahi.predict import get_sliced_prediction

    from srtod.sliced_inference import SliceConfig

    thr = 0.21  # drops the slivers of squares cut by a slice border
    frame = _planted_frame()
    cfg = SliceConfig(64, 64, overlap=0.25, merge="nms", match_metric=metric, match_thr=0.5)
    got = _srtod_detector(thr).predict(frame, slice=cfg, batch_size=3)
    res = get_sliced_prediction(frame[..., ::-1], _sahi_model(thr), slice_height=64,
                                slice_width=64, overlap_height_ratio=0.25,
                                overlap_width_ratio=0.25, perform_standard_pred=True,
                                postprocess_type="NMS", postprocess_match_metric=metric.upper(),
                                postprocess_match_threshold=0.5, force_postprocess_type=True,
                                verbose=0)
    want = sorted((p.score.value, p.category.id, *p.bbox.to_xyxy())
                  for p in res.object_prediction_list)
    mine = sorted((float(s), int(c), *map(float, b))
                  for b, s, c in zip(got.bboxes, got.scores, got.labels, strict=True))
    assert 40 <= len(mine) == len(want), (len(mine), len(want))
    np.testing.assert_allclose(np.array(mine), np.array(want), atol=1e-5)
    # the merge had work to do: the slices and the full frame saw far more boxes than are kept
    from srtod.sliced_inference import slice_windows

    seen = sum(int((_blobs(frame[y0:y1, x0:x1])[1] >= thr).sum())
               for x0, y0, x1, y1 in slice_windows(300, 500, cfg)) + len(_blobs(frame)[1])
    assert seen > len(mine) + 40, (seen, len(mine))
