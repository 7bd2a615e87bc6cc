"""VisDrone2019-DET -> COCO json (Du et al., "VisDrone-DET2019", ICCVW 2019).

VisDrone ships one txt per image, one object per line::

    <left>,<top>,<width>,<height>,<score>,<category>,<truncation>,<occlusion>

Categories 1-10 are the classes (pedestrian, people, bicycle, car, van, truck, tricycle,
awning-tricycle, bus, motor); 0 marks *ignored regions* and 11 *others*. Ignored regions become
``iscrowd=1`` annotations, one per class, so that COCO-style evaluation neither rewards nor
penalises detections inside them (a crowd box only ignores detections of its own category), and
mmdet's ``CocoDataset`` loads them with ``ignore_flag=1``. Boxes with ``score == 0`` are ignored in
the official evaluation, so they are kept as ``iscrowd=1`` of their class. 'Others' (11) are
dropped and counted. Bad lines are reported as ``<txt>:<line>`` and skipped; boxes outside the
image are clipped; empty boxes are dropped; nothing is dropped without an entry in the report.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from .catalog import VISDRONE_CLASSES
from .cocoio import DataError, dump_json
from .report import Report

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
IGNORED, OTHERS = 0, 11
CATEGORIES = [{"id": i + 1, "name": name} for i, name in enumerate(VISDRONE_CLASSES)]
FIELDS = ("left", "top", "width", "height", "score", "category", "truncation", "occlusion")
#: VisDrone folder name fragment -> split name of srtod's layout
SPLIT_NAMES = (("test-challenge", None), ("test-dev", "test"), ("train", "train"), ("val", "val"),
               ("test", "test"))


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header; raises OSError if it is not a readable image."""
    with Image.open(path) as im:
        return im.size


def parse_line(line: str, where: str) -> tuple[int, ...]:
    """The 8 integer fields of one annotation line; DataError naming ``where`` and the field."""
    parts = [p.strip() for p in line.strip().split(",")]
    while parts and parts[-1] == "":  # some files end lines with a comma
        parts.pop()
    if len(parts) != len(FIELDS):
        raise DataError(f"{where}: expected {len(FIELDS)} comma-separated fields "
                        f"({','.join(FIELDS)}), got {len(parts)}: {line.strip()!r}")
    values = []
    for name, text in zip(FIELDS, parts, strict=True):
        try:
            values.append(int(text))
        except ValueError:
            raise DataError(f"{where}: field '{name}' is not an integer: {text!r}") from None
    return tuple(values)


def convert_visdrone(root_split_dir: str | Path, out_json: str | Path, *,
                     report_json: str | Path | None = None) -> Report:
    """Convert one VisDrone split folder (``images/*.jpg``, ``annotations/*.txt``) to COCO.

    Args:
        root_split_dir: e.g. ``data/raw/visdrone/VisDrone2019-DET-val``.
        out_json: COCO json to write; ``file_name`` is relative to ``<root_split_dir>/images``.
        report_json: where the report is saved (default ``<out_json stem>.convert-report.json``).

    Returns:
        the :class:`~srtod.data.report.Report` (counts, one issue per fixed/dropped item).
    """
    root = Path(root_split_dir)
    img_dir, ann_dir = root / "images", root / "annotations"
    for d in (img_dir, ann_dir):
        if not d.is_dir():
            raise DataError(f"{root}: not a VisDrone split folder, missing '{d.name}/' "
                            "(expected <split>/images/*.jpg and <split>/annotations/*.txt)")
    out_json = Path(out_json)
    report = Report(task="convert-visdrone", source=str(root))
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTENSIONS}
    txts = {p.stem: p for p in sorted(ann_dir.glob("*.txt"))}
    for stem in sorted(set(txts) - set(images)):
        report.add("missing_image", str(txts[stem]), "dropped",
                   f"no image '{stem}.*' in {img_dir}; its annotations are skipped")

    coco_images, annotations = [], []
    for image_id, (stem, path) in enumerate(sorted(images.items()), start=1):
        try:
            width, height = image_size(path)
        except OSError as err:
            report.add("unreadable_image", str(path), "dropped", f"cannot read image ({err})")
            continue
        coco_images.append({"id": image_id, "file_name": path.name, "width": width,
                            "height": height})
        report.count("images")
        if stem not in txts:
            report.add("missing_annotation_file", str(path), "kept",
                       f"no {ann_dir / (stem + '.txt')}; image kept without objects")
            continue
        n_before = len(annotations)
        _convert_file(txts[stem], image_id, width, height, annotations, report)
        if len(annotations) == n_before:
            report.add("empty_image", str(path), "kept", "no objects after conversion")

    coco = {"info": {"description": "VisDrone2019-DET converted by srtod.data.visdrone",
                     "source": str(root)},
            "licenses": [], "images": coco_images, "annotations": annotations,
            "categories": CATEGORIES}
    report.outputs["ann_file"] = str(dump_json(coco, out_json))
    report.save(report_json or out_json.with_name(out_json.stem + ".convert-report.json"))
    return report


def _convert_file(txt: Path, image_id: int, width: int, height: int, annotations: list[dict],
                  report: Report) -> None:
    """Append the annotations of one txt file."""
    try:
        lines = txt.read_text(encoding="utf-8", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        report.add("unreadable_annotation_file", str(txt), "dropped", f"cannot read ({err})")
        return
    for lineno, line in enumerate(lines, start=1):
        where = f"{txt}:{lineno}"
        if not line.strip():
            report.count("blank_lines")
            continue
        try:
            left, top, w, h, score, category, truncation, occlusion = parse_line(line, where)
        except DataError as err:
            report.add("malformed_line", where, "dropped", str(err).split(": ", 1)[1])
            continue
        if not 0 <= category <= OTHERS:
            report.add("unknown_category", where, "dropped",
                       f"field 'category' = {category} is not in 0..11")
            continue
        if category == OTHERS:
            report.count("others_dropped")
            continue
        if w <= 0 or h <= 0:
            report.add("zero_size_box", where, "dropped",
                       f"fields 'width','height' = {w},{h}: box has no area")
            continue
        x1, y1 = max(left, 0), max(top, 0)
        x2, y2 = min(left + w, width), min(top + h, height)
        if (x1, y1, x2, y2) != (left, top, left + w, top + h):
            if x2 <= x1 or y2 <= y1:
                report.add("bbox_outside", where, "dropped",
                           f"box {[left, top, w, h]} lies outside the {width}x{height} image")
                continue
            report.add("bbox_outside", where, "fixed",
                       f"box {[left, top, w, h]} clipped to the {width}x{height} image")
        bbox = [x1, y1, x2 - x1, y2 - y1]
        area = bbox[2] * bbox[3]
        if category == IGNORED:
            report.count("ignored_regions")
            for cat in CATEGORIES:
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": cat["id"], "bbox": bbox, "area": area,
                                    "iscrowd": 1, "ignored_region": True})
            continue
        crowd = int(score == 0)
        report.count("score0_ignored" if crowd else "objects")
        annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                            "category_id": category, "bbox": bbox, "area": area,
                            "iscrowd": crowd, "truncation": truncation, "occlusion": occlusion})


def split_of(folder_name: str) -> str | None:
    """srtod split of a VisDrone folder name (``VisDrone2019-DET-test-dev`` -> ``test``)."""
    name = folder_name.lower()
    for fragment, split in SPLIT_NAMES:
        if fragment in name:
            return split
    return None


def convert_visdrone_root(root: str | Path, *, link_images: bool = True) -> dict[str, Report]:
    """Convert every annotated split folder under ``root`` (e.g. ``data/raw/visdrone``).

    Writes ``<root>/annotations/<split>.json`` and, with ``link_images``, a relative symlink
    ``<root>/images/<split>`` -> ``../<split folder>/images`` so that the layout matches the
    catalog (``images/<split>/``, ``annotations/<split>.json``).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    reports: dict[str, Report] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        split = split_of(folder.name)
        if split is None or not (folder / "annotations").is_dir():
            continue
        if split in reports:
            raise DataError(f"{folder}: a second folder for split '{split}' "
                            f"(already converted {reports[split].source})")
        reports[split] = convert_visdrone(folder, root / "annotations" / f"{split}.json")
        if link_images:
            link = root / "images" / split
            link.parent.mkdir(parents=True, exist_ok=True)
            target = Path(os.path.relpath(folder / "images", link.parent))
            if link.is_symlink() and Path(os.readlink(link)) != target:
                link.unlink()
            if not link.exists():
                link.symlink_to(target, target_is_directory=True)
            reports[split].outputs["img_dir"] = str(link)
            reports[split].save(reports[split].outputs["report"])
    if not reports:
        raise DataError(f"{root}: no VisDrone split folder with annotations/ found "
                        "(expected e.g. VisDrone2019-DET-train/{images,annotations})")
    return reports
