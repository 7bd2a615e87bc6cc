"""PyTorch against ONNX Runtime: milliseconds per image of the same detector, with and without
SR-TOD, side by side in one run.

For each model size (``slim``: the default's Faster R-CNN at 128 px; ``paper``: ResNet-50 Faster
R-CNN on a 1920 x 1080 frame, which the DroneSwarms config keeps at its size), the baseline and its
SR-TOD twin are exported (``srtod export``) from the same weights as the PyTorch model, then timed
**interleaved**: repeat r of every (model, runtime, threads) before repeat r+1 of any, on the same
image, end to end through ``srtod.Detector`` (reading excluded; resizing, normalisation, the
network, NMS and rescaling included). Reported: the median ms per image, the ONNX Runtime speed-up
over PyTorch and SR-TOD's cost ratio (SR-TOD over baseline) under each runtime. Weights are random
with the configs' initialisation (nothing is downloaded; time hardly depends on the weights); the
slim image is a generated 128 px image, the paper one a generated 1920 x 1080 frame.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_onnx.py --sizes slim paper --threads 1 2 \
        --repeats 7 --out docs/results/onnx
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: shared cores

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

CONFIGS = {
    "slim": ("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
             "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"),
    "paper": ("faster_rcnn/faster-rcnn_r50_fpn_20e_droneswarms.py",
              "faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py"),
}


def _image(size: str, folder: Path) -> np.ndarray:
    """A generated image: 128 px (slim) or one 1920 x 1080 frame (paper), BGR uint8."""
    import cv2

    from srtod.data.synthetic import generate_dataset

    generate_dataset(folder, num_images={"test": 1}, seed=0, progress=False,
                     image_size=128 if size == "slim" else (1080, 1920))
    path = sorted(p for p in (folder / "images").rglob("*") if p.suffix in (".jpg", ".png"))[0]
    return cv2.imread(str(path))


def _checkpoint(config: str, path: Path) -> Path:
    """Random weights of ``config`` (its own initialisation, ImageNet loading removed) saved as an
    mmengine checkpoint, so PyTorch and the export read the same weights."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from srtod.config import load_config, random_init

    cfg = random_init(load_config(config))
    init_default_scope("mmdet")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({"state_dict": model.state_dict(), "meta": {}}, path)
    return path


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", choices=sorted(CONFIGS), default=["slim", "paper"])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("results/onnx"))
    args = ap.parse_args()

    from srtod import Detector
    from srtod.config import load_config, random_init
    from srtod.export import export_onnx

    args.out.mkdir(parents=True, exist_ok=True)
    rows, exports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            img = _image(size, tmp / f"img_{size}")
            runners = {}
            for config in CONFIGS[size]:
                name = "SR-TOD" if "srtod_" in config else "baseline"
                ckpt = _checkpoint(config, tmp / f"{size}_{name}.pth")
                start = time.perf_counter()
                onnx = export_onnx(random_init(load_config(config)), ckpt, tmp / f"{size}_{name}")
                exports.append(dict(size=size, model=name, export_s=round(time.perf_counter() - start, 1),
                                    onnx_mb=round(onnx.stat().st_size / 2**20, 1)))
                runners[(name, "PyTorch")] = Detector(random_init(load_config(config)), ckpt,
                                                      device="cpu")
                for t in args.threads:
                    runners[(name, f"ONNX Runtime@{t}")] = Detector(onnx, threads=t)
            times = {(k, t): [] for k in runners for t in args.threads
                     if k[1] == "PyTorch" or k[1].endswith(f"@{t}")}
            for r in range(args.warmup + args.repeats):
                for (name, runtime), t in times:
                    torch.set_num_threads(t)
                    start = time.perf_counter()
                    runners[(name, runtime)].predict(img)
                    if r >= args.warmup:
                        times[((name, runtime), t)].append((time.perf_counter() - start) * 1e3)
            for ((name, runtime), t), ms in times.items():
                rows.append(dict(size=size, image=f"{img.shape[0]}x{img.shape[1]}", model=name,
                                 runtime=runtime.split("@")[0], threads=t,
                                 ms_median=float(np.median(ms)), ms_min=float(np.min(ms)),
                                 repeats=len(ms)))
            print(pd.DataFrame([r for r in rows if r["size"] == size]).round(1).to_string(),
                  flush=True)
    table = pd.DataFrame(rows)
    wide = table.pivot_table(index=["size", "threads", "model"], columns="runtime",
                             values="ms_median").reset_index()
    wide["ORT speed-up"] = wide["PyTorch"] / wide["ONNX Runtime"]
    ratio = table.pivot_table(index=["size", "threads", "runtime"], columns="model",
                              values="ms_median").reset_index()
    ratio["SR-TOD / baseline"] = ratio["SR-TOD"] / ratio["baseline"]
    table.to_csv(args.out / "speed.csv", index=False)
    meta = dict(commit=_commit(), machine=platform.processor() or platform.machine(),
                cores=os.cpu_count(), torch=torch.__version__, repeats=args.repeats,
                warmup=args.warmup, exports=exports,
                command="OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_onnx.py "
                        f"--sizes {' '.join(args.sizes)} --threads "
                        f"{' '.join(map(str, args.threads))} --repeats {args.repeats} "
                        f"--out {args.out}")
    (args.out / "speed.json").write_text(json.dumps(dict(meta, rows=rows), indent=2) + "\n")
    md = ["| size | threads | model | PyTorch ms | ONNX Runtime ms | ORT speed-up |",
          "| --- | --- | --- | --- | --- | --- |"]
    md += [f"| {r['size']} | {r['threads']} | {r['model']} | {r['PyTorch']:.1f} | "
           f"{r['ONNX Runtime']:.1f} | {r['ORT speed-up']:.2f}x |" for _, r in wide.iterrows()]
    md += ["", "| size | threads | runtime | SR-TOD / baseline |", "| --- | --- | --- | --- |"]
    md += [f"| {r['size']} | {r['threads']} | {r['runtime']} | {r['SR-TOD / baseline']:.2f} |"
           for _, r in ratio.iterrows()]
    (args.out / "speed.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
