"""``make report``: the published analysis as a static site, and its check in a real browser.

The site is built with nbconvert (Jupyter's converter, already installed with JupyterLab and
papermill): each executed notebook published under ``docs/results/<profile>/notebooks/`` becomes a
page, rendered by nbconvert's JupyterLab template with its scripts from CDNs removed
(``templates/srtod_report``), so the site is built and read with no network. The front page is the
README's first screen (what srtod is, the two commands, the result) with each chapter's computed
conclusion; a tables page renders the published ``README.md`` of the profile. Links to repository
files outside the site become plain text, so that every link of the site resolves inside it.

:func:`check_site` opens every page in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): each page loads, each image decodes (``naturalWidth >
0``), each internal link names a file of the site, and nothing is fetched from outside it.

``python -m srtod.report build [--profile P] [--out DIR]`` and
``python -m srtod.report check [--out DIR] [--screenshot PNG]``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from ..paths import DOCS_RESULTS, ROOT
from .published import notebook_markdown, notebook_title

SITE = ROOT / "build" / "report"
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "srtod_report"
MAX_SCREENSHOT_BYTES = 150_000
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver",)
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def readme_first_screen(readme: Path = ROOT / "README.md") -> str:
    """The README from its title through its ``## Result`` section."""
    text = readme.read_text()
    start = text.index("\n## Result")
    end = text.find("\n## ", start + 1)
    return text if end < 0 else text[:end]


def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def _notebook_of_markdown(text: str, title: str) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    nb.cells[0].id = hashlib.sha1(text.encode()).hexdigest()[:8]  # the same page for the same text
    nb.metadata = {"title": title, "kernelspec": {"name": "python3", "display_name": "Python 3",
                                                  "language": "python"},
                   "language_info": {"name": "python"}}
    return nb


def notebook_conclusion(nb: dict) -> str:
    """The first paragraph of the markdown a notebook displays after its ``## Conclusion``
    heading (its computed conclusion), else ``""``."""
    seen = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown" and "## Conclusion" in "".join(cell["source"]):
            seen = True
        elif seen and cell.get("cell_type") == "code":
            found = notebook_markdown({"cells": [cell]})
            if found:
                return found[0].strip().split("\n\n")[0]
    return ""


def _rewrite_links(text: str, source_dir: Path, pages: dict[Path, str], assets: Path,
                   asset_prefix: str) -> str:
    """Markdown ``text`` (written in ``source_dir``) with each relative link made a link of the
    site: to a page of ``pages`` (a repository file -> its page), an image copied into
    ``assets``, or, for any other file, the link text alone."""

    def sub(match: re.Match) -> str:
        bang, label, target = match.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        path = (source_dir / target.split("#")[0]).resolve()
        if bang:
            if not path.is_file():
                return label
            assets.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, assets / path.name)
            return f"![{label}]({asset_prefix}{path.name})"
        if path in pages:
            return f"[{label}]({pages[path]})"
        return label

    return _LINK.sub(sub, text)


def _nav(links: list[tuple[str, str]], here: str) -> str:
    items = [f'<a class="srtod-here" href="{escape(href)}">{escape(label)}</a>' if label == here
             else f'<a href="{escape(href)}">{escape(label)}</a>' for label, href in links]
    return f'<nav class="srtod-nav">{"".join(items)}</nav>'


@dataclass
class Site:
    """What :func:`build_site` wrote: the folder and its pages (relative paths)."""

    out: Path
    pages: list[str] = field(default_factory=list)


def build_site(profile: str = "default", out: Path = SITE,
               docs: Path = DOCS_RESULTS, readme: Path = ROOT / "README.md") -> Site:
    """Write the report of ``profile`` into ``out`` (emptied first): ``index.html`` (the README's
    first screen and the chapters with their conclusions), ``tables.html`` (the published
    tables and figures) and ``notebooks/<name>.html``, one per published notebook."""
    folder = docs / profile
    notebooks = sorted((folder / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{folder}/notebooks: no published notebook; `make publish` "
                                "after `make repro` publishes them")
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    exporter = _exporter()
    import nbformat

    loaded = {p: nbformat.read(p, as_version=4) for p in notebooks}
    titles = {p: notebook_title(nb) for p, nb in loaded.items()}
    nav = [("srtod report", "index.html"), ("tables", "tables.html")] + [
        (titles[p].split(":")[0].strip() or p.stem, f"notebooks/{p.stem}.html") for p in notebooks]
    site = Site(out)

    def write(rel: str, nb: dict, here: str) -> None:
        depth = rel.count("/")
        links = [(label, "../" * depth + href) for label, href in nav]
        body, _ = exporter.from_notebook_node(_as_node(nb), resources={"srtod_nav": _nav(links, here)})
        (out / rel).write_text(body)
        site.pages.append(rel)

    pages = {(folder / "README.md").resolve(): "tables.html"}
    pages |= {p.resolve(): "tables.html" for p in folder.glob("*.md")}
    for i, path in enumerate(notebooks):
        write(f"notebooks/{path.stem}.html", loaded[path], nav[2 + i][0])
    to_pages = {p.resolve(): f"notebooks/{p.stem}.html" for p in notebooks}
    tables = _rewrite_links((folder / "README.md").read_text(), folder, to_pages,
                            out / "figures", "figures/")
    write("tables.html", _notebook_of_markdown(tables, f"srtod: published {profile} tables"),
          "tables")
    provenance = json.loads((folder / "provenance.json").read_text()) \
        if (folder / "provenance.json").is_file() else {}
    front = _rewrite_links(readme_first_screen(readme), readme.parent, pages, out / "figures",
                           "figures/")
    chapters = [f"1. [{titles[p]}](notebooks/{p.stem}.html): {notebook_conclusion(loaded[p])}"
                for p in notebooks]
    run = (f"The chapters of the published `{profile}` run (commit "
           f"`{provenance.get('commit', '?')}`, published {provenance.get('published', '?')}), "
           "executed on its finished runs, with their outputs and each one's computed conclusion; "
           "the [tables](tables.html) are the publication's. Times (cost, seconds per image or "
           "frame) are measured again by each execution.")
    text = "\n\n".join([front, "## The analysis, chapter by chapter", run, "\n".join(chapters)])
    write("index.html", _notebook_of_markdown(text, "srtod: SR-TOD, reproducible"),
          "srtod report")
    return site


def _as_node(nb: dict):
    import nbformat

    return nbformat.from_dict(nb) if not isinstance(nb, nbformat.NotebookNode) else nb


# ----------------------------------------------------------------------------- the browser


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) of Debian's packages, or None when either is missing."""
    browser = next((p for p in CHROMIUM if Path(p).is_file()), None)
    driver = next((p for p in CHROMEDRIVER if Path(p).is_file()), None) or shutil.which(
        "chromedriver")
    return (browser, driver) if browser and driver else None


def _driver(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("headless Chromium needs Debian's chromium and chromium-driver "
                           "(`make chromium` installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)


_PAGE_FACTS = """
const images = Array.from(document.images).map(i => [i.getAttribute('src').slice(0, 80),
    i.complete, i.naturalWidth]);
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
const fetched = performance.getEntriesByType('resource').map(r => r.name)
    .filter(n => !n.startsWith('file:') && !n.startsWith('data:'));
return {title: document.title, text: document.body ? document.body.innerText.length : 0,
        images: images, links: links, fetched: fetched};
"""


def check_site(out: Path = SITE, screenshot: Path | None = None) -> dict:
    """Open every page of the site in headless Chromium; returns ``{"pages", "images",
    "links", "problems"}`` (``problems`` empty when every page loads with a title and text, every
    image decodes, every link to a ``file:`` target names an existing file, and no page fetched
    anything outside the site). ``screenshot``: the front page, 1280 px wide, written there as a
    PNG of at most :data:`MAX_SCREENSHOT_BYTES`."""
    from urllib.parse import unquote, urlparse

    out = Path(out).resolve()
    pages = sorted(out.rglob("*.html"))
    if not pages:
        raise FileNotFoundError(f"{out}: no page; `python -m srtod.report build` first")
    facts = {"pages": len(pages), "images": 0, "links": 0, "problems": []}
    driver = _driver()
    try:
        for page in pages:
            driver.get(page.as_uri())
            seen = driver.execute_script(_PAGE_FACTS)
            name = str(page.relative_to(out))
            if not seen["title"] or seen["text"] < 100:
                facts["problems"].append(f"{name}: did not load (title {seen['title']!r})")
            for src, complete, width in seen["images"]:
                facts["images"] += 1
                if not complete or not width:
                    facts["problems"].append(f"{name}: image {src} does not show")
            for href in seen["links"]:
                url = urlparse(href)
                if url.scheme != "file":
                    continue
                facts["links"] += 1
                target = Path(unquote(url.path))
                if not target.is_file() or not target.is_relative_to(out):
                    facts["problems"].append(f"{name}: broken link {href}")
            facts["problems"] += [f"{name}: fetched {u}" for u in seen["fetched"]]
        if screenshot is not None:
            driver.get((out / "index.html").as_uri())
            _write_screenshot(driver.get_screenshot_as_png(), Path(screenshot))
    finally:
        driver.quit()
    return facts


def _write_screenshot(png: bytes, path: Path) -> None:
    from .published import shrink_png_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(shrink_png_bytes(png, MAX_SCREENSHOT_BYTES))
