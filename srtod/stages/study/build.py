"""The study rebuilt from its committed records: the test set they were scored on, then the
tables, markdown and figures in one folder (``python -m srtod study tables``, notebook 08)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ...paths import PREPARED
from .compare import study_tables
from .design import THRESHOLD_STUDY, Design
from .records import file_sha256, materialize, materialize_source, read_record
from .writeup import study_figure, study_markdown

log = logging.getLogger(__name__)


def study_ground_truth(records: Path, tmp: Path, profile: str = THRESHOLD_STUDY.profile,
                       prepared: Path = PREPARED / "annotations" / "test.json") -> Path:
    """The test annotations the records were scored on: ``prepared`` when its hash is theirs,
    else ``profile``'s data generated anew under ``tmp`` (the synthetic set is
    deterministic). A path that does not exist when neither matches (no image-level intervals)."""
    from ..params import load_params
    from ..prepare import prepare_data

    wanted = {read_record(p)["record"].get("test_annotations_sha256")
              for p in Path(records).glob("*.npz")} - {None}
    if len(wanted) > 1:
        raise ValueError(f"{records}: the records were scored on {len(wanted)} different test "
                         "sets; the study pairs runs on the same images only")
    if not wanted or (prepared.is_file() and file_sha256(prepared) in wanted):
        return prepared
    params = load_params(profile=profile)
    if params["active"]["data"]["name"] != "synthetic":
        return tmp / "missing.json"
    prepare_data(params, out=tmp / "prepared", results=tmp / "data")
    generated = tmp / "prepared" / "annotations" / "test.json"
    if file_sha256(generated) not in wanted:
        log.warning("the %s profile's test set does not match the records' (hash): "
                    "no image-level intervals", profile)
        return tmp / "missing.json"
    return generated


def build_study(out: Path, design: Design = THRESHOLD_STUDY, records: Path | None = None,
                n_boot: int = 1000) -> dict[str, Any]:
    """Rebuild the ``design``'s study in ``out`` from every record (default: its committed ones)
    and the published sources' metrics: ``study.md``, a CSV per table of :func:`study_tables`,
    ``paired_differences.png`` and ``detection_changes.png``. Returns the tables, the markdown and
    the runs recorded."""
    import shutil
    import tempfile

    from ...viz import plot_detection_changes, save

    records = design.records if records is None else Path(records)
    tmp = Path(tempfile.mkdtemp(prefix="srtod-study-"))
    try:
        runs = materialize(records, tmp)
        for source in design.sources:
            if source.folder is not None:
                materialize_source(tmp, source)
        tables = study_tables(tmp, design, n_boot=n_boot,
                              ann_file=study_ground_truth(records, tmp, design.profile))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        df.to_csv(out / f"{key}.csv", index=False, float_format="%.4f")
    text = study_markdown(tables, design)
    (out / "study.md").write_text(text)
    save(study_figure(tables["compare"], design), out / "paired_differences.png")
    if not tables["detection_changes"].empty:
        save(plot_detection_changes(tables["detection_changes"]), out / "detection_changes.png")
    return {"tables": tables, "markdown": text, "runs": runs}
