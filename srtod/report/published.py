"""The executed notebooks of a run, published beside its tables, and the numbers they show.

``make publish`` copies the pipeline's executed notebooks (``results/notebooks/*.ipynb``) to
``docs/results/<profile>/notebooks/``: their figures shrunk to at most :data:`MAX_IMAGE_BYTES`
each, the workspace's absolute paths made relative, and each notebook held to
:data:`MAX_NOTEBOOK_BYTES` (it raises rather than publish a larger one). A reader sees the
analysis on the forge without running anything; ``make report`` renders them.

:func:`markdown_tables` and :func:`notebook_markdown` read the tables a notebook shows, so that a
test can check them against the published tables.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

MAX_IMAGE_BYTES = 100_000  # one figure of a published notebook
MAX_NOTEBOOK_BYTES = 1_500_000  # one published notebook, figures included
MAX_TOTAL_BYTES = 5_000_000  # every published notebook of a profile together


def notebook_title(nb: dict) -> str:
    """A notebook's first markdown heading, without its ``#``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "notebook"


def shrink_png_bytes(data: bytes, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """``data`` (a PNG) downscaled and palette-quantised until at most ``max_bytes`` (as
    :func:`srtod.stages.publish.shrink_png` does for the published figures)."""
    if len(data) <= max_bytes:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        buffer = io.BytesIO()
        image.resize(size, Image.LANCZOS).quantize(colors=256).save(buffer, format="PNG",
                                                                    optimize=True)
        out = buffer.getvalue()
        if len(out) <= max_bytes or scale < 0.2:
            return out
        scale *= 0.85


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def clean_notebook(nb: dict, workspace: Path | None = None) -> dict:
    """A copy of an executed notebook fit to publish: its PNG outputs shrunk, ``workspace``'s
    absolute path removed from text outputs and from papermill's metadata (a path then reads
    relative to the workspace, as the tables print them)."""
    prefixes = [f"{Path(workspace).resolve()}/", f"{Path(workspace)}/"] if workspace else []

    def relative(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    nb = json.loads(json.dumps(nb))
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = relative(_text(out["text"]))
            data = out.get("data", {})
            for kind, value in list(data.items()):
                if kind == "image/png":
                    png = base64.b64decode(_text(value))
                    data[kind] = base64.b64encode(shrink_png_bytes(png)).decode() + "\n"
                    out.get("metadata", {}).pop("image/png", None)  # width/height of the original
                elif kind.startswith("text/"):
                    data[kind] = relative(_text(value))
    meta = nb.get("metadata", {}).get("papermill", {})
    for key in ("input_path", "output_path"):
        if isinstance(meta.get(key), str):
            meta[key] = relative(meta[key])
    return nb


def publish_notebooks(source: Path, out: Path, workspace: Path | None = None,
                      max_bytes: int = MAX_NOTEBOOK_BYTES,
                      max_total: int = MAX_TOTAL_BYTES) -> dict[str, int]:
    """Copy every executed notebook of ``source`` to ``out`` (emptied first) through
    :func:`clean_notebook`; returns ``{file name: bytes}``. Raises ``ValueError`` naming the
    notebook when one exceeds ``max_bytes``, or all together ``max_total``."""
    source, out = Path(source), Path(out)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{source}: no executed notebook to publish")
    texts = {}
    for path in notebooks:
        nb = clean_notebook(json.loads(path.read_text()), workspace)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if len(text.encode()) > max_bytes:
            raise ValueError(f"{path.name}: {len(text.encode())} bytes after shrinking its "
                             f"figures, over the {max_bytes} a published notebook may take")
        texts[path.name] = text
    total = sum(len(t.encode()) for t in texts.values())
    if total > max_total:
        raise ValueError(f"{source}: the notebooks take {total} bytes together, over {max_total}")
    if out.exists():
        for old in out.glob("*.ipynb"):
            old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_text(text)
    sizes = {name: len(text.encode()) for name, text in texts.items()}
    (out / "README.md").write_text(notebooks_readme({n: json.loads(t) for n, t in texts.items()},
                                                    sizes))
    return sizes


def notebooks_readme(notebooks: dict[str, dict], sizes: dict[str, int]) -> str:
    """The index of a folder of published notebooks: each one's title, its parameters, when it
    ran and its size."""

    lines = ["# The executed notebooks", "",
             "The pipeline's notebooks as they ran for the tables beside this folder, with their "
             "outputs (figures shrunk to at most 100 KB). Each is a chapter: what it asks, its "
             "parameters, its tables and figures, and a conclusion computed from its numbers "
             "(`srtod.report.conclusions`). Times they print (cost, seconds per image or frame) "
             "are measured when the notebook runs. `make report` renders them as a site.", "",
             "| notebook | chapter | parameters | executed (UTC) | size |",
             "| --- | --- | --- | --- | --- |"]
    for name, nb in notebooks.items():
        meta = nb.get("metadata", {}).get("papermill", {})
        params = ", ".join(f"`{k}={v}`" for k, v in (meta.get("parameters") or {}).items())
        when = (meta.get("end_time") or "")[:16].replace("T", " ")
        lines.append(f"| [{name}]({name}) | {notebook_title(nb)} | {params} | {when} | "
                     f"{sizes[name] / 1e3:.0f} KB |")
    return "\n".join(lines) + "\n"


def notebook_markdown(nb: dict) -> list[str]:
    """The markdown a notebook's code cells displayed (tables, conclusions), in order."""
    found = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get("text/markdown")
            if value is not None:
                found.append(_text(value))
    return found


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """The pipe tables of a markdown text by the ``###`` title above each (``""`` without one):
    header row first, cells stripped; the ``---`` row dropped."""
    tables: dict[str, list[list[str]]] = {}
    title, rows = "", None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            title = line.lstrip("#").strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if rows is None:
                rows = []
            if not all(re.fullmatch(r"-{3,}", c) for c in cells):
                rows.append(cells)
        elif rows is not None:
            tables[title] = rows
            rows = None
    return tables
