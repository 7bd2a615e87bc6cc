"""The output folder of ``python -m srtod predict SOURCE``, written as the predictions stream:
``detections.csv``, ``vis/`` (a video: ``vis/<name>.mp4``) and ``crops/<class>/`` image by image,
``detections.json`` (COCO results) and ``images.json`` at the end (:class:`PredictionWriter`);
:func:`predict_to_folder` runs a :class:`srtod.Detector` over the images and videos of a SOURCE
into it, skipping bad files with a warning."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .image_sources import Sources, video_frames, video_info
from .sliced_inference import SliceConfig


class PredictionWriter:
    """Streams detections to the output folder: CSV, visualisations and crops as they come, the
    COCO jsons at :meth:`close`."""

    def __init__(self, out_dir: Path, classes, *, vis: bool, crops: bool, maps: bool) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.classes = list(classes)
        self.vis, self.crops, self.maps = vis, crops, maps
        self.images: list[dict] = []
        self.results: list[dict] = []
        self._csv_file = (out_dir / "detections.csv").open("w", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["image", "x1", "y1", "x2", "y2", "score", "label", "class_name"])
        self._video = None
        self._bases: set[str] = set()

    def name_of(self, label: int) -> str:
        return self.classes[label] if 0 <= label < len(self.classes) else str(label)

    def add(self, pred, image, name: str, *, frame_of: str | None = None) -> None:
        import cv2

        h, w = image.shape[:2]
        base = Path(name).with_suffix("").as_posix()
        if frame_of is None:
            if base in self._bases:  # a.png beside a.jpg: vis/a.png.jpg, crops/<class>/a.png_*.png
                base = name
            self._bases.add(base)
        entry = dict(file_name=name, id=int(pred.img_id), width=int(w), height=int(h))
        if frame_of is not None:
            entry.update(video=frame_of, frame=int(name.rsplit("#", 1)[1]))
        self.images.append(entry)
        for k, ((x1, y1, x2, y2), score, label) in enumerate(
                zip(pred.bboxes, pred.scores, pred.labels, strict=True)):
            label = int(label)
            self.results.append(dict(image_id=int(pred.img_id), category_id=label + 1,
                                     bbox=[round(float(x1), 2), round(float(y1), 2),
                                           round(float(x2 - x1), 2), round(float(y2 - y1), 2)],
                                     score=round(float(score), 5)))
            self._csv.writerow([name, f"{x1:.2f}", f"{y1:.2f}", f"{x2:.2f}", f"{y2:.2f}",
                                f"{score:.5f}", label, self.name_of(label)])
            if self.crops:
                xa, ya = max(0, int(x1)), max(0, int(y1))
                xb, yb = min(w, int(round(x2 + 0.5))), min(h, int(round(y2 + 0.5)))
                if xb > xa and yb > ya:
                    # a video frame 'clip.mp4#12' -> crops/<class>/clip_f12_<k>.png
                    stem = (f"{Path(frame_of).stem}_f{entry['frame']}" if frame_of is not None
                            else base.replace("/", "__"))
                    path = self.out_dir / "crops" / self.name_of(label) / f"{stem}_{k}.png"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(path), image[ya:yb, xa:xb])
        if not self.vis:
            return
        from .viz.detections import render_prediction

        panel = render_prediction(image, pred.bboxes, pred.scores, pred.labels, self.classes,
                                  pred.maps if self.maps else None)
        if frame_of is not None:
            self._video_frame(panel, frame_of)
            return
        path = self.out_dir / "vis" / f"{base}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), panel, [cv2.IMWRITE_JPEG_QUALITY, 92])

    def open_video(self, name: str, fps: float) -> None:
        self._video = dict(name=name, fps=fps if fps and fps > 0 else 25.0, writer=None)

    def _video_frame(self, panel, name: str) -> None:
        import cv2

        v = self._video
        if v["writer"] is None:
            path = self.out_dir / "vis" / Path(name).with_suffix(".mp4")
            path.parent.mkdir(parents=True, exist_ok=True)
            h, w = panel.shape[:2]
            v["size"] = (w - w % 2, h - h % 2)
            v["writer"] = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), v["fps"],
                                          v["size"])
        w, h = v["size"]
        v["writer"].write(panel[:h, :w])

    def close_video(self) -> None:
        if self._video and self._video["writer"] is not None:
            self._video["writer"].release()
        self._video = None

    def close(self) -> None:
        self.close_video()
        self._csv_file.close()
        categories = [dict(id=i + 1, name=n) for i, n in enumerate(self.classes)]
        (self.out_dir / "detections.json").write_text(json.dumps(self.results))
        (self.out_dir / "images.json").write_text(
            json.dumps(dict(images=self.images, categories=categories), indent=1))


@dataclass
class Tally:
    """What :func:`predict_to_folder` did: images (video frames included) predicted, their
    detections, files skipped as bad (images, videos without a readable frame), videos read only
    in part, and the seconds it took."""

    images: int = 0
    detections: int = 0
    bad: int = 0
    damaged: int = 0
    seconds: float = 0.0


def _stderr(msg: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(msg, file=sys.stderr)


def predict_to_folder(detector, sources: Sources, out_dir: Path, *, batch_size: int = 1,
                      slice: SliceConfig | None = None, vis: bool = True, crops: bool = False,
                      maps: bool = True, progress: bool = True,
                      warn: Callable[[str], None] = _stderr) -> Tally:
    """Predict every image, then every video frame, of ``sources`` with ``detector`` (a
    :class:`srtod.Detector`) and write them to ``out_dir`` (:class:`PredictionWriter`): ``vis``
    images (with D and D_b beside them for an SR-TOD model with ``maps``), ``crops``. Image ids
    count from 1 in that order. A bad image, or a video without a readable frame, is named through
    ``warn`` and skipped; a video read only in part keeps the frames read."""
    maps = detector.is_srtod and vis and maps
    writer = PredictionWriter(out_dir, detector.classes, vis=vis, crops=crops, maps=maps)
    names = {str(p): rel for p, rel in sources.images}
    tally = Tally()

    def on_error(item, err) -> None:
        tally.bad += 1
        warn(f"{err}, skipped")

    start = time.perf_counter()
    try:
        for pred, img in detector.iter_predictions(
                [p for p, _ in sources.images], batch_size=batch_size, slice=slice, maps=maps,
                on_error=on_error, progress=progress, first_id=1):
            writer.add(pred, img, names[pred.img_path])
            tally.images += 1
            tally.detections += len(pred.bboxes)
        next_id = len(sources.images) + 1
        for path, rel in sources.videos:
            counts: dict = {}
            claimed, fps = video_info(path)
            writer.open_video(rel, fps)
            read_before = tally.images
            for pred, img in detector.iter_predictions(
                    video_frames(path, counts), batch_size=batch_size, slice=slice, maps=maps,
                    progress=progress, first_id=next_id, total=claimed or None):
                writer.add(pred, img, f"{rel}#{pred.img_id - next_id:06d}", frame_of=rel)
                tally.images += 1
                tally.detections += len(pred.bboxes)
            writer.close_video()
            read = counts.get("read", 0)
            next_id += read
            if "error" in counts or read == 0:
                tally.bad += 1
                warn(counts.get("error", f"{path}: no frame could be read (empty or damaged "
                                         "video), skipped"))
            elif counts.get("claimed", 0) > read:
                tally.damaged += 1
                warn(f"{path}: only {read} of its {counts['claimed']} frames could be read "
                     f"(truncated or damaged video); those {tally.images - read_before} were "
                     "kept")
    finally:
        writer.close()
    tally.seconds = time.perf_counter() - start
    return tally


__all__ = ["PredictionWriter", "Tally", "predict_to_folder"]
