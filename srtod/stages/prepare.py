"""The prepare stage (notebook 01): the profile's data set in ``data/prepared``, validated, with its
validation reports and statistics under ``results/data``."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..data.catalog import SPLITS
from ..data.cocoio import dump_json
from ..paths import PREPARED, RAW_DATA, ROOT, output_dir
from .params import synthetic_image_size


def prepare_data(params: dict, out: Path = PREPARED, results: Path | None = None) -> dict:
    """Make ``data/prepared/{images,annotations}`` for the active profile, validated.

    ``synthetic``: generate the embedded data set. A real data set (``data/raw/<name>/``): validate
    every split; the (fixed) annotations are written to ``data/prepared/annotations`` and
    ``data/prepared/images`` links to the raw images. Writes the validation report and statistics
    to ``results`` (default: ``results/data``).
    """
    from ..data.stats import object_table, split_stats
    from ..data.validate import validate_coco

    data = params["active"]["data"]
    results = Path(results) if results else output_dir("data")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if data["name"] == "synthetic":
        from ..data.synthetic import generate_dataset

        summary = generate_dataset(out, num_images=data["num_images"], image_size=synthetic_image_size(params),
                                   seed=data["seed"])
    else:
        raw = Path(data["root"]) if data.get("root") else RAW_DATA / data["name"]
        raw = raw if raw.is_absolute() else ROOT / raw
        missing = [s for s in SPLITS if not (raw / "annotations" / f"{s}.json").is_file()]
        if missing:
            raise FileNotFoundError(
                f"data set {data['name']!r}: {raw}/annotations/ lacks {missing}; see "
                "srtod/data/README.md for the expected layout (VisDrone: `python -m srtod convert`)")
        (out / "images").symlink_to((raw / "images").resolve(), target_is_directory=True)
        summary = {"out_dir": str(out), "source": str(raw)}
    reports = {}
    for split in SPLITS:
        ann = out / "annotations" / f"{split}.json"
        source = ann if data["name"] == "synthetic" else raw / "annotations" / f"{split}.json"
        fixed = out / "annotations" / f"{split}.fixed.json"
        report = validate_coco(source, out / "images" / split, out_json=fixed, fix=True,
                               verbose=False)
        if fixed.exists():
            fixed.replace(ann)
        reports[split] = report.to_dict()
        print(report.summary(max_lines=5))
    files = {s: out / "annotations" / f"{s}.json" for s in SPLITS}
    stats = split_stats(files)
    dump_json(reports, results / "validation.json", indent=2)
    dump_json(stats, results / "stats.json", indent=2)
    table = object_table(files)
    table.to_csv(results / "objects.csv", index=False)
    return {"summary": summary, "stats": stats, "validation": reports}
