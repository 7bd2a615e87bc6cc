"""The README's "SR-TOD in your own mmdet config" snippet works where a user saves it.

The snippet is read from README.md (so this test follows the README), written to a folder outside
the repository, loaded from there with mmengine's ``Config.fromfile`` (the current folder moved
there too, so nothing can resolve against ``srtod/configs``), and built with mmdet's registry as a
plain mmdet training script would: the model is the SR-TOD variant of the snippet's detector, and
it trains a step (with the reconstruction loss) and predicts.
"""

from __future__ import annotations

import re

import pytest
import torch

from conftest import make_batch
from srtod.paths import ROOT

SECTION = "## SR-TOD in your own mmdet config"


def readme_snippet() -> str:
    """The first ```python block of the README's section on one's own mmdet config."""
    text = (ROOT / "README.md").read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```python\n(.*?)^```", section, re.M | re.S)
    assert block, f"README.md: no ```python block under {SECTION!r}"
    return block.group(1)


def test_snippet_names_no_relative_base():
    base = re.search(r"^_base_\s*=\s*(.+)$", readme_snippet(), re.M)
    assert base, "the snippet inherits a detector config (_base_)"
    # a relative _base_ resolves against the folder the user saved the snippet in
    assert "::" in base.group(1), f"_base_ must name a package's config: {base.group(1)}"


@pytest.fixture
def saved_snippet(tmp_path, monkeypatch):
    folder = tmp_path / "my_project" / "configs"
    folder.mkdir(parents=True)
    path = folder / "my_srtod_config.py"
    path.write_text(readme_snippet())
    monkeypatch.chdir(tmp_path)
    assert not path.resolve().is_relative_to(ROOT)
    return path


def test_snippet_loads_and_builds_from_any_folder(saved_snippet):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope, init_default_scope

    from srtod.config import random_init

    cfg = Config.fromfile(saved_snippet)  # runs the snippet's custom_imports (srtod.models)
    assert cfg.model.type == "SRTOD"
    random_init(cfg)  # no ImageNet download in the tests
    scope = cfg.get("default_scope", "mmdet")
    if DefaultScope.get_current_instance() is None:
        init_default_scope(scope)
    from mmdet.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    detector = cfg.model.detector
    assert type(model).__name__ == f"SRTOD{detector}"
    assert any(c.__name__ == detector for c in type(model).__mro__[1:])

    sizes = ((96, 128), (96, 96))
    model.train()
    data = model.data_preprocessor(make_batch(sizes=sizes), True)
    losses = model.loss(data["inputs"], data["data_samples"])
    assert "loss_rec" in losses
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(make_batch(sizes=sizes), False)
        results = model.predict(data["inputs"], data["data_samples"])
    assert len(results) == len(sizes)
    assert all(r.pred_instances.bboxes.shape[-1] == 4 for r in results)


def test_srtod_commands_take_the_saved_snippet(saved_snippet):
    """``python -m srtod train PATH`` loads a config by its path the same way."""
    from srtod.config import load_config

    cfg = load_config(saved_snippet)
    assert cfg.model.type == "SRTOD" and cfg.model.srtod.dgfe.type == "DGFE"


def test_a_config_elsewhere_builds_on_srtods_by_full_path(tmp_path, monkeypatch):
    """What the README says for srtod's own configs: named by the full path under
    ``srtod.paths.CONFIGS`` (``srtod::`` is no mmengine package prefix), they are inherited from
    any folder, their ``{{_base_.*}}`` variables included."""
    from mmengine.config import Config

    from srtod.paths import CONFIGS

    parent = CONFIGS / "faster_rcnn" / "srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    path = tmp_path / "mine.py"
    path.write_text(f"_base_ = {str(parent)!r}\n"
                    "model = dict(srtod=dict(dgfe=dict(threshold=dict(init=14.5 / 255))))\n")
    monkeypatch.chdir(tmp_path)
    cfg, ref = Config.fromfile(path), Config.fromfile(parent)
    assert cfg.model.srtod.dgfe.threshold.init == 14.5 / 255
    assert cfg.model.srtod.dgfe.threshold.mode == ref.model.srtod.dgfe.threshold.mode
    assert cfg.train_dataloader == ref.train_dataloader
