"""srtod.complexity: head FLOPs against an independent analytical count, parameters, detector costs."""

from __future__ import annotations

import json

import pytest
import torch

from srtod.complexity import count_flops, detector_cost, head_cost, pair_configs

SLIM = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
SLIM_SRTOD = "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"


def analytical_recon_head_flops(channels: int, stride: int, height: int, width: int) -> int:
    """Sum over layers of pixels x kernel area x Cin x Cout x 2: output pixels for convolutions,
    input pixels for the 4x4 stride-2 transposed convolutions."""
    flops, cin, pixels = 0, channels, (height // stride) * (width // stride)
    for _ in range(stride.bit_length() - 1):  # log2(stride) up-stages
        cout = cin // 2
        flops += pixels * 4 * 4 * cin * cout * 2  # TranConv, per input pixel
        pixels *= 4
        flops += 2 * pixels * 3 * 3 * cout * cout * 2  # Conv1, Conv2
        cin = cout
    return flops + height * width * 3 * 3 * cin * 3 * 2  # output conv to RGB


@pytest.mark.parametrize("fusion", ["attention", "multiply", "concat", None])
def test_head_flops_scale_with_area(fusion):
    small = head_cost(64, 4, (256, 320), fusion=fusion)
    large = head_cost(64, 4, (512, 640), fusion=fusion)
    assert large["flops"] / small["flops"] == pytest.approx(4.0, rel=0.01)
    assert large["params"] == small["params"]


def test_recon_head_flops_match_analytical_and_paper():
    cost = head_cost(256, 4, (800, 1344))
    expected = analytical_recon_head_flops(256, 4, 800, 1344)
    assert cost["flops_recon_head"] == expected
    assert cost["level_hw"] == [200, 336]
    assert cost["flops"] == pytest.approx(462e9, rel=0.02)
    assert cost["flops_recon_head"] == pytest.approx(462e9, rel=0.02)
    # RH only: the block is the reconstruction head (the difference map has no multiply-adds)
    assert head_cost(256, 4, (800, 1344), fusion=None)["flops"] == expected
    assert head_cost(64, 8, (256, 256))["flops_recon_head"] == analytical_recon_head_flops(
        64, 8, 256, 256)


def test_head_variants():
    pd_cost = head_cost(64, 4, (128, 128), diff_map="pixel")
    hfd_cost = head_cost(64, 4, (128, 128), diff_map="highfreq")
    assert hfd_cost["flops"] == pd_cost["flops"]  # FFTs are element-wise work, not MACs
    assert hfd_cost["flops_elementwise_diff_map"] > 10 * pd_cost["flops_elementwise_diff_map"]
    concat = head_cost(64, 4, (128, 128), fusion="concat")
    assert concat["flops_dgfe"] == 32 * 32 * 65 * 64 * 2  # 1x1 conv (C+1) -> C on the level
    with pytest.raises(ValueError):
        head_cost(64, 4, (128, 128), diff_map="wavelet")


def test_head_params_equal_numel():
    from srtod.models import DGFE, ReconstructionHead

    cost = head_cost(256, 4, (800, 1344))
    rh, dgfe = ReconstructionHead(256, stride=4), DGFE(256)
    assert cost["params_recon_head"] == sum(p.numel() for p in rh.parameters())
    assert cost["params_dgfe"] == sum(p.numel() for p in dgfe.parameters())
    assert cost["params"] == cost["params_recon_head"] + cost["params_dgfe"]


def test_count_flops_elementwise():
    flops, elementwise, out = count_flops(lambda x: (x * 2).sum(), torch.ones(10), elementwise=True)
    assert (flops, elementwise, float(out)) == (0, 20, 20.0)
    flops, _, _ = count_flops(torch.nn.Linear(4, 3), torch.ones(5, 4))
    assert flops == 5 * 4 * 3 * 2


def test_detector_cost_slim_pair():
    kw = dict(repeats=1, warmup=0, threads=1)
    base = detector_cost(SLIM, (128, 128), **kw)
    sr = detector_cost(SLIM_SRTOD, (128, 128), **kw)
    for cost in (base, sr):
        assert cost["params"] > 0 and cost["flops"] > 0 and cost["time_ms"] > 0
        assert cost["flops_scope"] == "_forward" and cost["flops"] > cost["flops_feat"] > 0
    assert base["params_srtod"] == 0
    assert sr["params_srtod"] == head_cost(64, 4, (128, 128))["params"]
    assert sr["params"] == base["params"] + sr["params_srtod"]
    assert sr["flops"] > base["flops"]
    # the SR-TOD block adds exactly its own multiply-adds to the features
    assert sr["flops_feat"] - base["flops_feat"] == head_cost(64, 4, (128, 128))["flops"]


def test_cost_of_a_paper_config_downloads_nothing():
    """DetectoRS' paper config names ImageNet weights for both backbone passes: the cost uses
    random weights instead (no network here, and timing does not depend on the weights)."""
    from srtod.config import _walk, load_config, random_init

    config = "detectors/detectors_cascade-rcnn_r50_fpn_20e_droneswarms.py"
    cfg = load_config(config)
    assert sum((n.get("init_cfg") or {}).get("type") == "Pretrained" for n in _walk(cfg.model)) == 2
    assert not any((n.get("init_cfg") or {}).get("type") == "Pretrained"
                   for n in _walk(random_init(cfg).model))
    cost = detector_cost(config, (128, 128), repeats=1, warmup=0, threads=1)
    assert cost["params"] > 0 and cost["time_ms"] > 0


def test_interleaved_costs_pair_runs_with_the_reference():
    """Run r of every model against run r of the first: the paired ratios, their median and its
    interval; the first model is its own reference (ratio 1 in every run)."""
    from srtod.complexity import interleaved_costs
    from srtod.evaluation.paired import median_interval

    stats = interleaved_costs({"base": SLIM, "srtod": SLIM_SRTOD}, (64, 64), repeats=6,
                              warmup=0, threads=1)
    base, sr = stats["base"], stats["srtod"]
    assert base["ratios"] == [1.0] * 6 and base["time_ratio"] == 1.0
    assert sr["ratios"] == pytest.approx([t / t0 for t, t0 in zip(sr["times_ms"],
                                                                  base["times_ms"], strict=True)])
    assert (sr["time_ratio"], sr["time_ratio_low"], sr["time_ratio_high"]) == \
        median_interval(sr["ratios"])
    assert sr["time_ratio_low"] == min(sr["ratios"]) and sr["time_ratio_high"] == max(sr["ratios"])
    assert sr["gflops"] > base["gflops"] and sr["params"] > base["params"]


def test_detector_cost_falls_back_to_features(monkeypatch):
    from mmdet.models.detectors.two_stage import TwoStageDetector

    def broken(*args, **kwargs):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(TwoStageDetector, "_forward", broken)
    cost = detector_cost(SLIM, (64, 64), repeats=1, warmup=0, threads=1)
    assert cost["flops_scope"] == "extract_feat"
    assert cost["flops"] == cost["flops_feat"] > 0
    assert "cannot trace" in cost["flops_error"]


def test_pair_configs():
    (name, base, sr), = pair_configs([SLIM])
    assert name == "faster-rcnn_r18-slim"
    assert base.endswith(SLIM) and sr.endswith(SLIM_SRTOD)
    assert pair_configs([SLIM_SRTOD]) == pair_configs([SLIM, SLIM_SRTOD]) == [(name, base, sr)]


def test_benchmark_command(tmp_path, capsys):
    from srtod.cli import main

    out = tmp_path / "cost.json"
    assert main(["benchmark", "--size", "64", "64", "--repeats", "1", "--warmup", "0",
                 "--threads", "1", "--out", str(out)]) == 0
    assert "faster-rcnn_r18-slim" in capsys.readouterr().out
    report = json.loads(out.read_text())
    row, = report["table"]
    assert row["params_ratio"] > 1 and row["gflops_ratio"] > 1 and row["time_ms_base"] > 0
    # baseline and SR-TOD timed interleaved: the ratio is the paired one, run over run
    pair, = report["models"]
    (t_base,), (t_sr,) = pair["baseline"]["times_ms"], pair["srtod"]["times_ms"]
    assert row["time_ratio"] == pytest.approx(t_sr / t_base)


def test_recon_head_costs_of_the_smoke_profile():
    """The cost stage's head table: the baseline, the paper's head and every head variant the
    profile trains, timed interleaved, each ratio paired with the baseline's runs."""
    from srtod.stages.cost import head_variants, recon_head_costs
    from srtod.stages.params import load_params

    params = load_params(profile="smoke")
    variants = head_variants(params)
    assert variants == ["rh_lite"], "the smoke profile trains a head variant (and no other)"
    table = recon_head_costs(params, (64, 64), repeats=1)
    assert list(table["experiment"]) == ["faster_rcnn", "faster_rcnn_srtod", *variants]
    assert table["time_ratio"].iloc[0] == 1.0
    assert (table["gflops"].iloc[1:] > table["gflops"].iloc[0]).all()
