"""Image sources: reading an image file (naming what is wrong with a bad one), the images and
videos a SOURCE names (a file, a folder or a glob), and a video's frames."""

from __future__ import annotations

import glob
import io
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: File suffixes read as images (what OpenCV decodes) and as videos.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff",
                            ".webp", ".pbm", ".pgm", ".ppm", ".pnm", ".jp2", ".sr", ".ras"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv",
                            ".webm", ".asf", ".ts"})


class BadImage(ValueError):
    """A file that is not a readable image; the message names the file and what is wrong."""


def read_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as an (h, w, 3) uint8 BGR array, decoded as mmdet's
    ``LoadImageFromFile`` does (OpenCV, EXIF orientation applied).

    Raises :class:`BadImage` for a missing, empty, undecodable or truncated file (a truncated JPEG
    or PNG decodes partly in OpenCV without an error; Pillow's full decode detects it).
    """
    import cv2
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadImage(f"{path}: cannot be read ({err.strerror or err})") from err
    if not data:
        raise BadImage(f"{path}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                im.load()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        pass  # a format Pillow does not know, or too large for its check: OpenCV decides below
    except (OSError, SyntaxError, ValueError) as err:
        raise BadImage(f"{path}: truncated or corrupt image ({err})") from err
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise BadImage(f"{path}: not an image (OpenCV cannot decode its {len(data)} bytes)")
    return img


@dataclass
class Sources:
    """Images and videos of a SOURCE, each with the name it is written under (its path relative to
    the folder or the glob's fixed part), and the files skipped with why."""

    images: list[tuple[Path, str]] = field(default_factory=list)
    videos: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def collect_sources(source: str) -> Sources:
    """Sort SOURCE into images, videos and skipped files. Raises FileNotFoundError when it names
    nothing (no such file or folder, a glob matching nothing)."""
    out = Sources()
    path = Path(source)
    if path.is_file():
        kind = out.videos if path.suffix.lower() in VIDEO_SUFFIXES else out.images
        kind.append((path, path.name))
        return out
    if path.is_dir():
        root, files = path, sorted(p for p in path.iterdir()
                                   if p.is_file() and not p.name.startswith("."))
    elif glob.has_magic(source):
        files = sorted(Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(f"no file matches {source!r}")
        fixed = list(itertools.takewhile(lambda part: not glob.has_magic(part), Path(source).parts))
        root = Path(*fixed) if fixed else Path(".")  # the folder before the first wildcard
    else:
        raise FileNotFoundError(f"SOURCE {source} does not exist (not a file, folder or glob)")
    for p in files:
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = p.name
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            out.images.append((p, rel))
        elif suffix in VIDEO_SUFFIXES:
            out.videos.append((p, rel))
        else:
            out.skipped.append(f"{p}: not an image or video (suffix {suffix or 'none'!r}), skipped")
    return out


def video_info(path: Path) -> tuple[int, float]:
    """The number of frames a video's header claims and its frame rate (0, 0 when it cannot be
    opened)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return 0, 0.0
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), float(cap.get(cv2.CAP_PROP_FPS) or 0)
    finally:
        cap.release()


def video_frames(path: Path, counts: dict) -> Iterator[np.ndarray]:
    """Frames of a video (BGR arrays); records how many were read and the count it claims."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            counts["error"] = f"{path}: cannot be opened as a video, skipped"
            return
        counts["claimed"] = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            counts["read"] = counts.get("read", 0) + 1
            yield frame
    finally:
        cap.release()


__all__ = ["BadImage", "IMAGE_SUFFIXES", "Sources", "VIDEO_SUFFIXES", "collect_sources",
           "read_image", "video_frames", "video_info"]
