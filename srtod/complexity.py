"""Computational cost of SR-TOD: parameters, FLOPs and inference time (CPU or GPU).

FLOP convention (used everywhere here): **1 multiply-add = 2 FLOPs**, counted for convolutions,
transposed convolutions, linear layers and matrix products only (``torch.utils.flop_counter``,
the convention of fvcore-style "GFLOPs" tables with the factor 2). Biases, activations,
normalization, pooling, resizing and other element-wise work are *not* in ``flops``; a transposed
convolution costs ``2 x Cin x Cout x k^2`` per **input** pixel (every input pixel scatters one
k x k x Cout patch), i.e. ``k^2 / s^2`` taps per output pixel. With this convention the paper's
reconstruction head (C=256 from P2, 800x1344) is 461.7 GFLOPs and a ResNet-50 backbone at the same
size 175.2 GFLOPs. :func:`head_cost` also reports ``flops_elementwise`` separately (1 FLOP per
output element of point-wise ops, 1 per input element of reductions, ``2.5 N log2 N`` per real
FFT of N points), which is where the difference-map and DGFE variants differ.

Glossary: C channels of the FPN level, s its stride, H x W the network input, h x w = H/s x W/s.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from .models.dgfe import FUSIONS as DGFE_FUSIONS

#: difference-map kinds and DGFE fusions of :func:`head_cost` (None = "RH only", no DGFE)
DIFF_MAPS = ("pixel", "highfreq")
FUSIONS = (*DGFE_FUSIONS, None)

_FFT_OPS = {"_fft_r2c": 2.5, "_fft_c2r": 2.5, "_fft_c2c": 5.0}


class ElementwiseCounter(TorchDispatchMode):
    """Counts the work :class:`FlopCounterMode` leaves out: 1 FLOP per output element of every
    point-wise op, 1 per input element of every reduction, ``2.5 N log2 N`` per real FFT
    (``5 N log2 N`` complex) of N points. Copies, views and resizes count 0."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        tags = func.tags
        if name in _FFT_OPS:
            signal = args[0] if name != "_fft_c2r" else out
            n = math.prod(signal.shape[d] for d in args[1])
            self.total += int(_FFT_OPS[name] * signal.numel() * math.log2(max(n, 2)))
        elif torch.Tag.reduction in tags and isinstance(args[0], torch.Tensor):
            self.total += args[0].numel()
        elif torch.Tag.pointwise in tags:
            outs = out if isinstance(out, (tuple, list)) else (out,)
            self.total += sum(o.numel() for o in outs if isinstance(o, torch.Tensor))
        return out


def count_flops(fn: Callable[..., Any], *args: Any, elementwise: bool = False,
                **kwargs: Any) -> tuple[int, int, Any]:
    """``(flops, elementwise_flops, result)`` of ``fn(*args, **kwargs)`` under no_grad, in the
    module's convention (``elementwise_flops`` is 0 unless ``elementwise``). Works on 'meta'
    tensors for pure-PyTorch code, so large inputs cost nothing to analyse."""
    counter = ElementwiseCounter() if elementwise else None
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        if counter is None:
            result = fn(*args, **kwargs)
        else:
            with counter:
                result = fn(*args, **kwargs)
    return fc.get_total_flops(), (counter.total if counter else 0), result


def num_params(module: nn.Module | None) -> int:
    """Number of parameter elements of ``module`` (0 for None)."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def head_cost(in_channels: int, stride: int, image_hw: tuple[int, int], *,
              fusion: str | None = "attention", diff_map: str = "pixel", cutoff: float = 0.1,
              threshold: dict | None = None, reduction: int = 16,
              resize_mode: str = "nearest", recon_head: dict | None = None) -> dict[str, Any]:
    """Parameters and FLOPs of the SR-TOD block alone on one level of an ``image_hw`` input.

    The block is the reconstruction head (RH) on the (1, C, H/s, W/s) level, the difference map
    (``diff_map`` 'pixel' = PD, Eq. 3, or 'highfreq' = HFD) against the (1, 3, H, W) input, and DGFE
    with ``fusion`` 'attention' (EA, the paper's), 'multiply' (EM), 'concat', or None (RH only).
    ``recon_head`` is the head's config as in ``SelfReconstruction`` (default: the paper's head).
    Analysed on 'meta' tensors (no computation). Sides not divisible by ``s`` are rounded up, as
    the FPN does.

    Returns a dict with the settings, ``params`` / ``flops`` / ``flops_elementwise`` of the whole
    block and per part (``*_recon_head``, ``*_diff_map``, ``*_dgfe``) and ``gflops``; see the
    module docstring for the convention.
    """
    from mmdet.registry import MODELS

    from .models.dgfe import DGFE
    from .models.difference_map import difference_map
    from .models.self_reconstruction import align_to

    if diff_map not in DIFF_MAPS:
        raise ValueError(f"diff_map must be one of {DIFF_MAPS}, got {diff_map!r}")
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
    height, width = map(int, image_hw)
    level_hw = (math.ceil(height / stride), math.ceil(width / stride))
    head_cfg = dict(recon_head or dict(type="ReconstructionHead"))
    rh = MODELS.build(dict(head_cfg, in_channels=in_channels, stride=stride)).to("meta").eval()
    dgfe = None
    if fusion is not None:
        dgfe = DGFE(in_channels, reduction=reduction, threshold=threshold, fusion=fusion,
                    resize_mode=resize_mode).to("meta").eval()
    feat = torch.zeros(1, in_channels, *level_hw, device="meta")
    target = torch.zeros(1, 3, height, width, device="meta")

    f_rh, e_rh, recon = count_flops(lambda x: align_to(rh(x), (height, width)), feat,
                                    elementwise=True)
    f_dm, e_dm, dmap = count_flops(difference_map, recon, target, kind=diff_map, cutoff=cutoff,
                                   elementwise=True)
    f_dg, e_dg = 0, 0
    if dgfe is not None:
        f_dg, e_dg, _ = count_flops(dgfe, feat, dmap, elementwise=True)
    out: dict[str, Any] = dict(
        in_channels=in_channels, stride=stride, image_hw=[height, width], recon_head=head_cfg,
        level_hw=list(level_hw), fusion=fusion, diff_map=diff_map,
        params_recon_head=num_params(rh), params_diff_map=0, params_dgfe=num_params(dgfe),
        flops_recon_head=f_rh, flops_diff_map=f_dm, flops_dgfe=f_dg,
        flops_elementwise_recon_head=e_rh, flops_elementwise_diff_map=e_dm,
        flops_elementwise_dgfe=e_dg)
    out["params"] = out["params_recon_head"] + out["params_dgfe"]
    out["flops"] = f_rh + f_dm + f_dg
    out["flops_elementwise"] = e_rh + e_dm + e_dg
    out["gflops"] = out["flops"] / 1e9
    return out


def _timed_test_step(model: nn.Module, batch: dict, sync: Callable[[], None]) -> float:
    """Milliseconds of one ``model.test_step(batch)``, synchronised before and after (``sync``:
    ``torch.cuda.synchronize`` on a GPU, nothing on the CPU)."""
    sync()
    t0 = time.perf_counter()
    model.test_step(batch)
    sync()
    return (time.perf_counter() - t0) * 1e3


def _sync_for(device: str) -> Callable[[], None]:
    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def fake_batch(image_hw: tuple[int, int], seed: int = 0) -> dict:
    """A packed batch of one deterministic random uint8 image (3, H, W), as PackDetInputs makes."""
    from mmdet.structures import DetDataSample

    h, w = map(int, image_hw)
    gen = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
    sample = DetDataSample(metainfo=dict(img_id=0, img_path="", img_shape=(h, w),
                                         ori_shape=(h, w), pad_shape=(h, w),
                                         scale_factor=(1.0, 1.0), flip=False))
    return dict(inputs=[img], data_samples=[sample])


def _build_and_count(cfg: Any, batch: dict, *, options: dict | None, seed: int,
                     device: str) -> tuple[nn.Module, dict[str, Any]]:
    """The detector of ``cfg`` with random weights (seeded: nothing downloaded), and its
    parameters and FLOPs on ``batch`` (the keys :func:`interleaved_costs` describes)."""
    from .config import load_config, random_init
    from .inference import build_model

    cfg = random_init(load_config(cfg, options=options or None))
    torch.manual_seed(seed)
    model = build_model(cfg, device=device)
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
    inputs, samples = data["inputs"], data["data_samples"]
    flops_feat, _, _ = count_flops(model.extract_feat, inputs)
    scope, error = "_forward", None
    try:
        flops, _, _ = count_flops(model._forward, inputs, samples)
    except Exception as exc:  # noqa: BLE001 - any failure: fall back to the features
        flops, scope, error = flops_feat, "extract_feat", f"{type(exc).__name__}: {exc}"
    model_cfg = cfg.model
    return model, dict(
        detector=str(model_cfg.get("detector", model_cfg.get("type"))),
        srtod="srtod" in model_cfg, input_hw=list(inputs.shape[-2:]), params=num_params(model),
        params_srtod=sum(p.numel() for n, p in model.named_parameters() if n.startswith("srtod.")),
        flops=flops, gflops=flops / 1e9, flops_scope=scope, flops_error=error,
        flops_feat=flops_feat, gflops_feat=flops_feat / 1e9)


def _model_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))


def interleaved_costs(cfgs: dict[str, Any], image_hw: tuple[int, int], *, repeats: int = 5,
                      warmup: int = 1, threads: int = 2, options: dict | None = None,
                      seed: int = 0, device: str | None = None) -> dict[str, dict[str, Any]]:
    """Parameters, FLOPs and inference time of several detectors on one image, **timed
    interleaved**: all are built first, then run r of every model comes before run r+1 of any, on
    the same random image, so the drift of a shared machine hits all of them alike. Run r starts
    with model r mod M (the order rotates), so no model always follows the same one.

    Args:
        cfgs: ``{name: Config, or config path / name under srtod/configs}``; the first is the
            reference of the time ratios.
        image_hw: (H, W) of the network input (padded by the data preprocessor as usual).
        repeats: timed runs of each model; warmup: untimed runs before.
        threads: ``torch.set_num_threads`` during the measurement (restored after).
        options: dotted-key overrides for every config.
        seed: seed of the weights (random, PyTorch default init) and of the random image.
        device: where the models run ('cpu', 'cuda', or None: CUDA when available). On a GPU each
            timed run ends with ``torch.cuda.synchronize``.

    Returns:
        ``{name: {...}}`` with ``params`` (all), ``params_srtod`` (names starting with 'srtod.'),
        ``flops`` of one ``model._forward`` (raw head outputs, no post-processing;
        ``flops_scope='_forward'``) or, if that cannot be run/counted, of backbone+neck+srtod
        (``flops_scope='extract_feat'``), ``flops_feat`` (backbone+neck+srtod, always),
        ``times_ms`` (every timed ``model.test_step`` on the packed batch, pre- and
        post-processing included), ``time_ms`` (their median), ``ratios`` (run r over the
        reference's run r), ``time_ratio`` (their median) and ``time_ratio_low`` /
        ``time_ratio_high`` (its 95% interval, :func:`srtod.evaluation.paired.median_interval`:
        NaN for fewer than 6 repeats), ``peak_mem_mb`` (GPU: the model's weights and buffers plus
        the largest memory a timed run allocated on top; None on the CPU), and the settings.
        Custom mmcv ops (RoIAlign, NMS, deformable attention) count 0 FLOPs.

    On a shared CPU set ``OMP_WAIT_POLICY=PASSIVE`` before torch is imported (the CLI and
    ``benchmarks/bench_cost.py`` do): spinning OpenMP threads can make ``threads > 1`` timings
    tens of times slower than one thread.
    """
    from .evaluation.paired import median_interval
    from .inference import resolve_device

    device = resolve_device(device)
    cuda = device.startswith("cuda")
    sync = _sync_for(device)
    batch = fake_batch(image_hw, seed)
    models, stats, extra_mem = {}, {}, {}
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for name, cfg in cfgs.items():
            models[name], stats[name] = _build_and_count(cfg, batch, options=options, seed=seed,
                                                         device=device)
            stats[name]["times_ms"], extra_mem[name] = [], []
        names = list(models)
        with torch.no_grad():
            for r in range(warmup + repeats):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    if cuda:
                        torch.cuda.reset_peak_memory_stats()
                        before = torch.cuda.memory_allocated()
                    ms = _timed_test_step(models[name], batch, sync)
                    if r >= warmup:
                        stats[name]["times_ms"].append(ms)
                        if cuda:
                            extra_mem[name].append(torch.cuda.max_memory_allocated() - before)
    finally:
        torch.set_num_threads(old_threads)
    ref = stats[names[0]]["times_ms"]
    for name, s in stats.items():
        s.update(image_hw=list(image_hw), time_ms=statistics.median(s["times_ms"]),
                 ratios=[t / t0 for t, t0 in zip(s["times_ms"], ref, strict=True)],
                 peak_mem_mb=((_model_bytes(models[name]) + max(extra_mem[name])) / 2**20
                              if cuda else None),
                 repeats=repeats, warmup=warmup, threads=threads, device=device,
                 omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"))
        s["time_ratio"], s["time_ratio_low"], s["time_ratio_high"] = median_interval(s["ratios"])
    return stats


def detector_cost(cfg: Any, image_hw: tuple[int, int], *, repeats: int = 5, warmup: int = 1,
                  threads: int = 2, options: dict | None = None, seed: int = 0,
                  device: str | None = None) -> dict[str, Any]:
    """Parameters, FLOPs and inference time of one detector: :func:`interleaved_costs` of
    ``cfg`` alone, without the ratios."""
    cost = interleaved_costs({"model": cfg}, image_hw, repeats=repeats, warmup=warmup,
                             threads=threads, options=options, seed=seed, device=device)["model"]
    for key in ("ratios", "time_ratio", "time_ratio_low", "time_ratio_high"):
        del cost[key]
    return cost


def cost_table(pairs: Sequence[tuple[str, Any, Any]], image_hw: tuple[int, int], *,
               repeats: int = 5, warmup: int = 1, threads: int = 2, options: dict | None = None,
               raw: list | None = None, device: str | None = None):
    """One row per ``(name, baseline_cfg, srtod_cfg)``: params (M), GFLOPs and time (ms) of the
    baseline and of SR-TOD, timed interleaved (:func:`interleaved_costs`), and the ratios SR-TOD /
    baseline (pandas DataFrame); ``time_ratio`` is the median of the paired per-run ratios, with
    its 95% interval ``time_ratio_low`` / ``time_ratio_high`` (NaN for fewer than 6 repeats).

    GFLOPs of both use the same ``flops_scope``: '_forward' if both could be counted, otherwise
    'extract_feat' (backbone+neck+srtod). ``raw``, if given, receives the two
    :func:`interleaved_costs` dicts of every pair.
    """
    import pandas as pd

    rows = []
    for name, base_cfg, srtod_cfg in pairs:
        stats = interleaved_costs({"baseline": base_cfg, "srtod": srtod_cfg}, image_hw,
                                  repeats=repeats, warmup=warmup, threads=threads,
                                  options=options, device=device)
        base, sr = stats["baseline"], stats["srtod"]
        if raw is not None:
            raw.append(dict(name=name, **stats))
        full = base["flops_scope"] == sr["flops_scope"] == "_forward"
        key = "gflops" if full else "gflops_feat"
        rows.append(dict(
            detector=name, size=f"{image_hw[0]}x{image_hw[1]}", device=base["device"],
            flops_scope="_forward" if full else "extract_feat",
            params_base_M=base["params"] / 1e6, params_srtod_M=sr["params"] / 1e6,
            params_ratio=sr["params"] / base["params"],
            srtod_block_params_M=sr["params_srtod"] / 1e6,
            gflops_base=base[key], gflops_srtod=sr[key], gflops_ratio=sr[key] / base[key],
            time_ms_base=base["time_ms"], time_ms_srtod=sr["time_ms"],
            time_ratio=sr["time_ratio"], time_ratio_low=sr["time_ratio_low"],
            time_ratio_high=sr["time_ratio_high"]))
    return pd.DataFrame(rows)


def default_pairs() -> list[tuple[str, str, str]]:
    """The slim Faster R-CNN pair (the CLI's default)."""
    return [("faster-rcnn_r18-slim",
             "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
             "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py")]


def pair_configs(configs: Sequence[str]) -> list[tuple[str, str, str]]:
    """Group config paths into ``(name, baseline, srtod)`` pairs.

    A baseline followed by its SR-TOD variant (basename ``srtod_`` + baseline's) forms a pair; a
    baseline alone is paired with the sibling ``srtod_<basename>``; an SR-TOD config alone with
    the sibling without the prefix.
    """
    from .config import resolve_config

    pairs, items, i = [], list(configs), 0
    while i < len(items):
        path = resolve_config(items[i])
        nxt = resolve_config(items[i + 1]) if i + 1 < len(items) else None
        if path.name.startswith("srtod_"):
            base, sr = path.with_name(path.name[len("srtod_"):]), path
            i += 1
        elif nxt is not None and nxt.name == "srtod_" + path.name:
            base, sr = path, nxt
            i += 2
        else:
            base, sr = path, path.with_name("srtod_" + path.name)
            i += 1
        for p in (base, sr):
            if not Path(p).is_file():
                raise FileNotFoundError(f"no partner config {p} for {items[i - 1]}")
        pairs.append((base.stem.split("_cpu")[0].split("_fpn")[0], str(base), str(sr)))
    return pairs


__all__ = ["ElementwiseCounter", "count_flops", "cost_table", "default_pairs", "detector_cost",
           "fake_batch", "head_cost", "interleaved_costs", "num_params", "pair_configs"]
