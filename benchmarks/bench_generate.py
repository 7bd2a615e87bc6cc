"""Speed of the synthetic generator (images/s, one core), including JPEG encoding and file writes.

    python benchmarks/bench_generate.py --images 100 --size 512

Prints one json line: images/s overall and the mean time of each stage of one image.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from srtod.data import backgrounds as bg  # noqa: E402
from srtod.data.synthetic import generate_dataset, image_rng  # noqa: E402


def stage_times(n: int, size: tuple[int, int]) -> dict[str, float]:
    """Mean milliseconds of the background stages (the rest is drones, distractors, writes)."""
    totals = {"scene": 0.0, "atmosphere": 0.0, "noise": 0.0, "jpeg": 0.0}
    for i in range(n):
        rng = image_rng(123, "bench", i)
        t0 = time.perf_counter()
        params = bg.sample_scene(rng)
        img = bg.draw_scene(rng, params, size)
        t1 = time.perf_counter()
        img = bg.apply_atmosphere(img, params)
        t2 = time.perf_counter()
        out = bg.add_sensor_noise(rng, img, params.noise_std)
        t3 = time.perf_counter()
        bg.jpeg_bytes(rng, out)
        t4 = time.perf_counter()
        for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            totals[key] += dt
    return {k: round(v / n * 1000, 2) for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    size = (args.size, args.size)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = generate_dataset(tmp, num_images={"train": args.images}, image_size=size,
                                   progress=False)
        seconds = time.perf_counter() - start
    instances = summary["splits"]["train"]["instances"]
    print(json.dumps({
        "images": args.images, "size": args.size, "threads": args.threads,
        "seconds": round(seconds, 2), "images_per_second": round(args.images / seconds, 1),
        "drones_per_image": round(instances / args.images, 1),
        "stage_ms": stage_times(min(args.images, 30), size),
        "numpy": np.__version__, "opencv": cv2.__version__}))


if __name__ == "__main__":
    main()
