"""``python -m srtod benchmark``: parameters, FLOPs and inference time of detectors with and without
SR-TOD, on the CPU or a GPU.

    python -m srtod benchmark [--configs A B ...] [--size H W] [--repeats N] [--device cuda]
                              [--out cost.json]

``--configs`` takes baseline / SR-TOD config pairs (paths or names under ``srtod/configs``); a
config given alone is paired with its sibling (``x.py`` <-> ``srtod_x.py``). Default: the slim
Faster R-CNN pair. Weights are random (no checkpoint, nothing downloaded); FLOPs follow
:mod:`srtod.complexity` (1 multiply-add = 2 FLOPs, conv/linear/matmul only).
"""

from __future__ import annotations

import argparse

from . import add_device_argument, device_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configs", nargs="+", default=None,
                        help="baseline/SR-TOD config pairs (default: the slim Faster R-CNN pair)")
    parser.add_argument("--size", nargs=2, type=int, default=(256, 256), metavar=("H", "W"),
                        help="input image size (default: 256 256)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, median (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default: 1)")
    parser.add_argument("--threads", type=int, default=2, help="CPU: torch threads (default: 2)")
    parser.add_argument("--cfg-options", nargs="+", default=None, metavar="KEY=VALUE",
                        help="config overrides for every model (weights are random: no ImageNet "
                             "download), e.g. model.srtod.dgfe.fusion=multiply")
    parser.add_argument("--out", default=None, help="write the table and raw figures as json")
    add_device_argument(parser)


def _parse_options(items: list[str] | None) -> dict | None:
    if not items:
        return None
    from mmengine.config import DictAction

    ns = argparse.Namespace()
    DictAction(option_strings=["--cfg-options"], dest="options")(None, ns, items)
    return ns.options


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from srtod.complexity import cost_table, default_pairs, pair_configs

    device = device_of(args)
    if device is None:
        return 2
    try:
        pairs = pair_configs(args.configs) if args.configs else default_pairs()
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    raw: list = []
    size = tuple(args.size)
    table = cost_table(pairs, size, repeats=args.repeats, warmup=args.warmup,
                       threads=args.threads, options=_parse_options(args.cfg_options), raw=raw,
                       device=device)
    print(table.to_markdown(index=False, floatfmt=".5g"))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(dict(size=list(size), table=table.to_dict(orient="records"),
                                       models=raw), indent=1))
        print(f"cost: {out}")
    return 0
