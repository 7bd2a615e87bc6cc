"""Helpers for the data tests (imported by the other test_data_* modules) and checks of the
hand-written fixtures in tests/fixtures/data/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def make_images(root: Path, manifest: dict[str, list[int] | str]) -> None:
    """Write the images listed in ``manifest`` (path -> [w, h] or "corrupt") under ``root``."""
    for i, (rel, spec) in enumerate(sorted(manifest.items())):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec == "corrupt":
            path.write_bytes(b"this is not an image\n")
            continue
        w, h = spec
        rng = np.random.default_rng(i)
        pixels = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy fixture folder ``name`` to ``dest / name`` and create its images; returns the copy."""
    out = dest / name
    shutil.copytree(FIXTURES / name, out)
    manifest = out / "images.json"
    if manifest.exists():
        make_images(out, json.loads(manifest.read_text()))
        manifest.unlink()
    return out


def test_fixture_manifests_make_the_listed_images(tmp_path):
    root = copy_fixture("visdrone", tmp_path)
    img = root / "VisDrone2019-DET-val" / "images"
    assert sorted(p.name for p in img.iterdir()) == ["0000001.jpg", "0000002.jpg", "0000004.jpg",
                                                     "0000005.jpg"]
    with Image.open(img / "0000001.jpg") as im:
        assert im.size == (64, 48)
    assert (img / "0000005.jpg").read_bytes().startswith(b"this is not")
    assert not (root / "images.json").exists()


def test_fixture_jsons_are_valid_json_except_the_broken_one():
    for path in FIXTURES.rglob("*.json"):
        if path.name == "coco_broken.json":
            continue
        assert isinstance(json.loads(path.read_text()), dict), path
