"""`make report`: the published notebooks and the README's result as a static site (nbconvert),
checked in a real headless Chromium; the published screenshot of its front page."""

import json

import pytest

from srtod.paths import ROOT
from srtod.report.site import (
    MAX_SCREENSHOT_BYTES,
    build_site,
    check_site,
    chromium_paths,
    notebook_conclusion,
    readme_first_screen,
)

PUBLISHED = ROOT / "docs" / "results" / "default"
SCREENSHOT = PUBLISHED / "report_front_page.png"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site("default", tmp_path_factory.mktemp("report") / "site")


def test_site_has_a_page_per_notebook_and_the_readme_result(site):
    notebooks = sorted((PUBLISHED / "notebooks").glob("*.ipynb"))
    assert sorted(site.pages) == sorted(["index.html", "tables.html",
                                         *(f"notebooks/{p.stem}.html" for p in notebooks)])
    index = (site.out / "index.html").read_text()
    verdict = readme_first_screen().split("**Verdict:")[1].split("**")[0].strip()
    assert verdict in index  # the README's result, as the README says it
    for path in notebooks:
        conclusion = notebook_conclusion(json.loads(path.read_text()))
        assert conclusion, path.name
        assert f'href="notebooks/{path.stem}.html"' in index
    # built without the network: no page asks for a script or style outside the site
    for page in site.pages:
        html = (site.out / page).read_text()
        assert "<script src=\"http" not in html and "cdn." not in html, page


@pytest.mark.skipif(chromium_paths() is None, reason="Debian's chromium and chromium-driver are "
                    "not installed (make chromium)")
def test_every_page_loads_in_headless_chromium(site, tmp_path):
    """Every page loads with its text, every image decodes (naturalWidth > 0), every internal
    link names a file of the site, and nothing is fetched from outside it."""
    pytest.importorskip("selenium")
    shot = tmp_path / "front.png"
    facts = check_site(site.out, screenshot=shot)
    assert facts["problems"] == []
    assert facts["pages"] == len(site.pages)
    assert facts["images"] >= 10 and facts["links"] >= 2 * facts["pages"]
    assert 0 < shot.stat().st_size <= MAX_SCREENSHOT_BYTES


def test_published_screenshot_of_the_front_page_is_small():
    from PIL import Image

    assert SCREENSHOT.is_file(), "python -m srtod.report check --screenshot " + str(SCREENSHOT)
    assert SCREENSHOT.stat().st_size <= MAX_SCREENSHOT_BYTES
    with Image.open(SCREENSHOT) as image:
        assert image.format == "PNG" and image.width >= 800
