"""Large frames: whole-frame against sliced inference of a detector trained on small images.

The detect stage's comparison (:mod:`srtod.stages.detect`) on more frames: generated 1920 x 1080
frames with the default's drone sizes (the synthetic generator), one checkpoint (by default the
`default` profile's SR-TOD run, trained at 160 px), four modes: the whole frame at the training
size, the whole frame at its own size, and slices of the training size (overlap 0.2, plus the
whole-frame pass) merged by NMM and by NMS. Reported per mode: AP, APvt and AR@1500 (AI-TOD
protocol), detections and seconds per frame. Usage:

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_large_frames.py --frames 20 \\
        --out docs/results/large_frames
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="with --checkpoint: your own model (default: the "
                        "profile's SR-TOD run)")
    parser.add_argument("--checkpoint")
    parser.add_argument("--profile", default="default", help="params.yaml profile of the run")
    parser.add_argument("--train-size", type=int,
                        help="slice size = the checkpoint's training input (default: the profile's)")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path("results/large_frames/frames"),
                        help="where the generated frames go (made once, then reused)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: CUDA if available)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", type=Path, help="write large_frames.json and .md here")
    args = parser.parse_args()

    import torch

    from srtod.paths import portable
    from srtod.stages.detect import compare_modes, detection_modes, large_frames
    from srtod.stages.markdown import to_markdown
    from srtod.stages.params import load_params, synthetic_image_size

    if args.threads:
        torch.set_num_threads(args.threads)
    params = load_params(profile=args.profile)
    if args.checkpoint:
        config, checkpoint = args.config, Path(args.checkpoint)
    else:
        from srtod.stages.detect import profile_checkpoint

        config, checkpoint = profile_checkpoint(params)
    size = args.train_size or synthetic_image_size(params)
    gt_file = large_frames(args.data, args.frames, seed=args.seed)
    gt = json.loads(gt_file.read_text())
    frames = [args.data / "images" / "test" / im["file_name"]
              for im in sorted(gt["images"], key=lambda im: im["id"])]
    table, _ = compare_modes(config, checkpoint, frames, detection_modes(size), gt=gt,
                             device=args.device)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    meta = {"frames": len(frames), "objects": len(gt["annotations"]), "frame": "1920x1080",
            "checkpoint": portable(checkpoint), "train_size": size, "score_thr": 0.01,
            "threads": torch.get_num_threads(), "device": args.device or "auto",
            "machine": f"{platform.machine()}, {platform.python_version()}", "commit": commit}
    text = to_markdown(table, f"Whole frame vs sliced inference: {len(frames)} generated 1920x1080 "
                       f"frames, {meta['objects']} drones, checkpoint trained at {size} px")
    text += (f"\n`{meta['checkpoint']}`, score threshold 0.01, {meta['threads']} torch threads, "
             f"commit `{commit}`; `python benchmarks/bench_large_frames.py --frames "
             f"{args.frames}`\n")
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "large_frames.json").write_text(json.dumps(
            {**meta, "rows": table.to_dict(orient="records")}, indent=2) + "\n")
        (args.out / "large_frames.md").write_text(text)


if __name__ == "__main__":
    main()
