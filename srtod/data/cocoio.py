"""Reading and writing COCO json files with error messages that name the file and position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class DataError(Exception):
    """Bad input data (file, line or field named in the message); commands print it, no traceback."""


def load_json(path: str | Path, what: str = "JSON") -> Any:
    """Parse a json file (``what`` it holds, for messages); a missing or unreadable file or a
    syntax error raises :class:`DataError` naming the file (and the position)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a {what} file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text (JSON) file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None


def load_coco(path: str | Path) -> dict[str, Any]:
    """Load a COCO detection json and check its top-level structure (not its content)."""
    data = load_json(path, "COCO annotation")
    if not isinstance(data, dict):
        raise DataError(f"{path}: top level must be a JSON object, got {type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise DataError(f"{path}: missing top-level field '{key}'")
        if not isinstance(data[key], list):
            raise DataError(f"{path}: field '{key}' must be a list, got {type(data[key]).__name__}")
    return data


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays, and paths, as JSON values."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(data: Any, path: str | Path, *, indent: int | None = None) -> Path:
    """Write json deterministically (key order as built, no timestamps; numpy values and paths
    converted); creates parent folders. Written to a temporary file first, then renamed, so an
    interrupted write never leaves a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=_jsonable,
                      separators=None if indent else (",", ":"))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def xywh_area(bbox: list[float]) -> float:
    """COCO ``area`` of a box ``[x, y, w, h]`` (the box area, as the issue requires)."""
    return float(bbox[2]) * float(bbox[3])
