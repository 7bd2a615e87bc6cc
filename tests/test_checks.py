"""Config checks that replace mmdet's unrelated errors with ones that name the limit and the fix."""

import pytest
import torch

from srtod.checks import check_config, encoder_tokens
from srtod.config import load_config
from srtod.inference import build_model

DINO = "dino/dino-4scale_r18-slim_60e_synthetic-128.py"


def test_encoder_tokens_match_the_built_models_feature_maps():
    cfg = load_config(DINO, image_size=128)
    model = build_model(cfg, device="cpu")
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, 128, 128))
    assert sum(f.shape[-2] * f.shape[-1] for f in feats) == encoder_tokens(cfg.model, (128, 128))
    assert encoder_tokens(cfg.model, (128, 128)) == 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2


def test_too_many_queries_for_the_input_is_named_with_its_fix():
    cfg = load_config(DINO, image_size=128, options={"model.num_queries": 900})
    with pytest.raises(ValueError, match=r"num_queries=900.*128x128.*only 340.*208x208"):
        check_config(cfg)
    # the fix it names works, and the config as shipped (100 queries) passes
    check_config(load_config(DINO, image_size=208, options={"model.num_queries": 900}))
    check_config(load_config(DINO, image_size=128))
    # without the check, mmdet fails inside topk: what the check exists for
    model = build_model(load_config(DINO, image_size=208, options={"model.num_queries": 900}),
                        device="cpu")
    from srtod.complexity import fake_batch

    with pytest.raises(RuntimeError, match="out of range"), torch.no_grad():
        model.test_step(fake_batch((128, 128)))


def test_models_without_query_selection_are_not_checked():
    check_config(load_config("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                             image_size=32))
