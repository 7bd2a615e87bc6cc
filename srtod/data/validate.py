"""Check a COCO detection data set before training, fix what can be fixed, report everything.

Checks (each issue names the json file and the entry, e.g. ``train.json: annotations[12] (id=40)``,
or the image file): malformed entries (missing/ill-typed fields), duplicate category, image and
annotation ids, missing or unreadable images, image size differing from the json, boxes outside
the image (clipped), boxes of zero or negative size (dropped), unknown image or category ids
(dropped), images without objects (reported, kept). With ``fix=True`` a fixed copy of the json is
written (never over the input); the report is printed and saved as json.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from PIL import Image

from .cocoio import DataError, dump_json, load_coco
from .report import Report

_EXIF_ORIENTATION = 0x0112


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def read_image_size(path: Path, decode: bool = True) -> tuple[int, int, int]:
    """(width, height, EXIF orientation) of an image; ``decode`` also decodes all pixels, so that
    truncated files are caught. Raises OSError (or a PIL error) when the file is not readable."""
    with Image.open(path) as im:
        width, height = im.size
        orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
        if decode:
            im.load()
    return width, height, orientation


def _check_categories(data: dict, src: str, report: Report) -> tuple[list[dict], set[int]]:
    kept, ids = [], set()
    for i, cat in enumerate(data["categories"]):
        where = f"{src}: categories[{i}]"
        if not isinstance(cat, dict) or not _is_int(cat.get("id")) or not isinstance(
                cat.get("name"), str):
            report.add("malformed_category", where, "dropped", "needs an integer 'id' and a 'name'")
            continue
        if cat["id"] in ids:
            report.add("duplicate_category_id", where, "dropped",
                       f"category id {cat['id']} ({cat['name']!r}) already defined")
            continue
        ids.add(cat["id"])
        kept.append(cat)
    if not kept:
        report.add("no_categories", src, "error", "no valid category")
    return kept, ids


def _check_images(data: dict, src: str, img_dir: Path, decode: bool,
                  report: Report) -> tuple[list[dict], set[int]]:
    """Valid, unique, readable images (sizes fixed to the files) and the ids of dropped ones."""
    first: dict[int, tuple[int, dict]] = {}
    ambiguous: set[int] = set()
    entries: list[tuple[int, dict]] = []
    for i, im in enumerate(data["images"]):
        where = f"{src}: images[{i}]"
        if not isinstance(im, dict):
            report.add("malformed_image", where, "dropped", "entry is not an object")
            continue
        bad = [k for k in ("id", "width", "height") if not _is_int(im.get(k))]
        if not isinstance(im.get("file_name"), str) or not im.get("file_name"):
            bad.append("file_name")
        if bad:
            report.add("malformed_image", where, "dropped",
                       f"missing or invalid field(s) {', '.join(repr(b) for b in bad)}")
            continue
        where = f"{src}: images[{i}] (id={im['id']})"
        if im["id"] in first:
            j, other = first[im["id"]]
            if other["file_name"] == im["file_name"]:
                report.add("duplicate_image_id", where, "dropped",
                           f"repeats images[{j}] ({im['file_name']}); duplicate entry removed")
            else:
                ambiguous.add(im["id"])
                report.add("duplicate_image_id", where, "dropped",
                           f"id also used by images[{j}] ({other['file_name']}) for another file "
                           f"({im['file_name']}): both images and their annotations dropped")
            continue
        first[im["id"]] = (i, im)
        entries.append((i, im))

    names = Counter(im["file_name"] for _, im in entries)
    kept, dropped = [], set(ambiguous)
    for i, im in entries:
        if im["id"] in ambiguous:
            continue
        where = f"{src}: images[{i}] (id={im['id']})"
        if names[im["file_name"]] > 1:
            report.add("duplicate_file_name", where, "kept",
                       f"{im['file_name']} is listed {names[im['file_name']]} times")
        path = img_dir / im["file_name"]
        if not path.is_file():
            report.add("missing_image", str(path), "dropped", f"listed in {where}, file not found")
            dropped.add(im["id"])
            continue
        try:
            width, height, orientation = read_image_size(path, decode)
        except Exception as err:  # PIL raises several types for corrupt files
            report.add("unreadable_image", str(path), "dropped", f"cannot decode ({err})")
            dropped.add(im["id"])
            continue
        if orientation not in (1, 2, 3, 4):
            report.add("exif_rotation", str(path), "kept",
                       f"EXIF orientation {orientation} swaps width and height in readers that "
                       "apply it; check the annotations")
        if (width, height) != (im["width"], im["height"]):
            report.add("image_size_mismatch", str(path), "fixed",
                       f"{where} says width,height = {im['width']},{im['height']}, "
                       f"the file is {width},{height}; json set to the file's size")
            im = {**im, "width": width, "height": height}
        kept.append(im)
    report.count("images_out", len(kept))
    return kept, dropped


def _check_box(bbox: Any, width: int, height: int, where: str,
               report: Report) -> list[float] | None:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(map(_is_number, bbox)):
        report.add("malformed_annotation", where, "dropped",
                   f"field 'bbox' must be 4 finite numbers [x, y, w, h], got {bbox!r}")
        return None
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        report.add("zero_size_box", where, "dropped", f"bbox {list(bbox)} has w or h <= 0")
        return None
    x1, y1, x2, y2 = max(x, 0.0), max(y, 0.0), min(x + w, float(width)), min(y + h, float(height))
    if (x1, y1, x2, y2) != (x, y, x + w, y + h):
        if x2 <= x1 or y2 <= y1:
            report.add("bbox_outside", where, "dropped",
                       f"bbox {list(bbox)} lies outside the {width}x{height} image")
            return None
        report.add("bbox_outside", where, "fixed",
                   f"bbox {list(bbox)} clipped to the {width}x{height} image")
        return [x1, y1, x2 - x1, y2 - y1]
    return list(bbox)


def _check_annotations(data: dict, src: str, images: dict[int, dict], dropped_images: set[int],
                       cat_ids: set[int], report: Report) -> list[dict]:
    anns = data["annotations"]
    used = {a["id"] for a in anns if isinstance(a, dict) and _is_int(a.get("id"))}
    next_id = max(used, default=0) + 1
    seen: set[int] = set()
    lost_with_image: Counter = Counter()
    kept = []
    for i, ann in enumerate(anns):
        where = f"{src}: annotations[{i}]"
        if not isinstance(ann, dict):
            report.add("malformed_annotation", where, "dropped", "entry is not an object")
            continue
        bad = [k for k in ("id", "image_id", "category_id") if not _is_int(ann.get(k))]
        if bad:
            report.add("malformed_annotation", where, "dropped",
                       f"missing or non-integer field(s) {', '.join(repr(b) for b in bad)}")
            continue
        where = f"{src}: annotations[{i}] (id={ann['id']})"
        if ann["image_id"] in dropped_images:
            lost_with_image[ann["image_id"]] += 1
            continue
        if ann["image_id"] not in images:
            report.add("unknown_image_id", where, "dropped",
                       f"field 'image_id' = {ann['image_id']} matches no image")
            continue
        if ann["category_id"] not in cat_ids:
            report.add("unknown_category", where, "dropped",
                       f"field 'category_id' = {ann['category_id']} is not in the categories "
                       f"{sorted(cat_ids)}")
            continue
        im = images[ann["image_id"]]
        bbox = _check_box(ann.get("bbox"), im["width"], im["height"], where, report)
        if bbox is None:
            continue
        fixed = {**ann, "bbox": bbox}
        if ann["id"] in seen:
            fixed["id"] = next_id
            report.add("duplicate_annotation_id", where, "fixed",
                       f"id {ann['id']} already used; renumbered to {next_id}")
            next_id += 1
        seen.add(fixed["id"])
        if not _is_number(ann.get("area")):
            fixed["area"] = bbox[2] * bbox[3]
            report.count("area_set_to_box_area")
        elif bbox != list(ann["bbox"]):  # clipped
            fixed["area"] = bbox[2] * bbox[3]
        if ann.get("iscrowd") not in (0, 1):
            fixed["iscrowd"] = 0
            report.count("iscrowd_set_to_0")
        kept.append(fixed)
    for image_id, n in sorted(lost_with_image.items()):
        report.add("annotations_of_dropped_image", f"{src}: image id={image_id}", "dropped",
                   f"{n} annotation(s) dropped with their image")
    report.count("annotations_out", len(kept))
    return kept


def validate_coco(ann_file: str | Path, img_dir: str | Path, out_json: str | Path | None = None,
                  fix: bool = True, *, report_json: str | Path | None = None, decode: bool = True,
                  verbose: bool = True, write_clean: bool = True) -> Report:
    """Validate (and with ``fix``, repair) a COCO detection json against its image folder.

    Args:
        ann_file: COCO json.
        img_dir: folder that ``file_name`` is relative to.
        out_json: fixed copy (default ``<ann stem>.fixed.json`` beside the input); never the input.
        fix: write the fixed copy.
        report_json: where the report goes (default ``<out/ann stem>.validation.json``).
        decode: decode every image fully (catches truncated files; slower than reading headers).
        verbose: print the summary.
        write_clean: False: write nothing (neither fixed copy nor report) when nothing needs
            fixing (``report.ok``), so that a clean data folder stays as it is.

    Returns:
        :class:`~srtod.data.report.Report`; ``report.outputs`` holds the written paths.

    Raises:
        DataError: the json cannot be read or lacks images/annotations/categories; ``img_dir``
            does not exist; ``out_json`` is the input file.
    """
    ann_file, img_dir = Path(ann_file), Path(img_dir)
    src = ann_file.name
    data = load_coco(ann_file)
    if not img_dir.is_dir():
        raise DataError(f"{img_dir}: image folder not found (for {ann_file})")
    if fix:
        out_json = Path(out_json) if out_json else ann_file.with_name(ann_file.stem + ".fixed.json")
        if out_json.resolve() == ann_file.resolve():
            raise DataError(f"{out_json}: refusing to overwrite the input; choose another output")
    report = Report(task="validate", source=str(ann_file))
    report.count("images_in", len(data["images"]))
    report.count("annotations_in", len(data["annotations"]))

    categories, cat_ids = _check_categories(data, src, report)
    images, dropped = _check_images(data, src, img_dir, decode, report)
    by_id = {im["id"]: im for im in images}
    annotations = _check_annotations(data, src, by_id, dropped, cat_ids, report)

    per_image: defaultdict[int, int] = defaultdict(int)
    for ann in annotations:
        if not ann.get("iscrowd"):
            per_image[ann["image_id"]] += 1
    for im in images:
        if per_image[im["id"]] == 0:
            report.add("empty_image", f"{src}: image id={im['id']} ({im['file_name']})", "kept",
                       "no objects (mmdet's filter_empty_gt skips it in training)")

    if not write_clean and report.ok:
        if verbose:
            print(report.summary() + "\n  nothing to fix: nothing written")
        return report
    if fix:
        fixed = {**data, "images": images, "annotations": annotations, "categories": categories}
        report.outputs["fixed_json"] = str(dump_json(fixed, out_json))
    base = Path(out_json) if fix else ann_file
    report.save(report_json or base.with_name(base.stem.removesuffix(".fixed")
                                              + ".validation.json"))
    if verbose:
        print(report.summary())
    return report
