"""Copy the last measured tables and key figures into ``docs/results/<profile>/`` (tracked by git).

``results/`` is a DVC output and ignored by git; this folder is what a reader of the repository sees
without running anything. Each publication records the commit, profile, command and wall time that
produced it (``make repro`` writes ``results/repro_time.json``), and PNGs are shrunk to at most
``MAX_PNG_BYTES``.
"""

from __future__ import annotations

import io
import json
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ..paths import DOCS_RESULTS, FIGURES, PREPARED, RESULTS, TABLES, run_dir
from ..probe import read_reference
from ..provenance import source, tree_fingerprint

MAX_PNG_BYTES = 300_000
#: tables in reading order (markdown files of results/tables/)
TABLE_FILES = ("compare.md", "convergence.md", "table1.md", "table2.md", "table3.md",
               "table4.md", "table5.md", "table6.md", "table7.md", "recon_heads.md",
               "per_class.md", "seeds.md", "runs.md", "cost.md")
#: figures worth looking at, in reading order (PNG files of results/figures/)
FIGURE_FILES = ("paired_differences.png", "val_ap_curves.png", "fig1_difference_map_0.png",
                "difference_map_coverage.png", "seed_spread.png", "training_curves.png",
                "fig4_features_without_with_srtod.png")


def shrink_png(src: Path, dst: Path, max_bytes: int = MAX_PNG_BYTES) -> int:
    """Copy ``src`` to ``dst``, downscaled and palette-quantised until at most ``max_bytes``."""
    from PIL import Image

    data = src.read_bytes()
    if len(data) > max_bytes:
        image = Image.open(src).convert("RGB")
        scale = 1.0
        while True:
            size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            small = image.resize(size, Image.LANCZOS).quantize(colors=256)
            buf = io.BytesIO()
            small.save(buf, format="PNG", optimize=True)
            data = buf.getvalue()
            if len(data) <= max_bytes or scale < 0.2:
                break
            scale *= 0.85
    dst.write_bytes(data)
    return len(data)


def _profile_of_results(results: Path) -> str | None:
    for path in sorted((results / "eval").glob("*/metrics.json")):
        profile = json.loads(path.read_text()).get("profile")
        if profile:
            return profile
    return None


def publish(results: Path = RESULTS, docs: Path = DOCS_RESULTS) -> Path:
    """Write ``docs/<profile>/`` from ``results/``: the tables, the figures and ``README.md``
    with provenance. Returns the folder. Raises if there is nothing to publish."""
    profile = _profile_of_results(results)
    tables, figures = results / TABLES.name, results / FIGURES.name
    if profile is None or not (tables / "compare.md").is_file():
        raise FileNotFoundError(f"{results}: no evaluated runs with tables to publish; run "
                                "`make repro` (or `dvc repro`) first")
    out = docs / profile
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    detect = results / "detect"  # the detect stage: whole frame vs sliced on large frames
    sources = {name: tables / name for name in TABLE_FILES} | {"detect.md": detect / "detect.md"}
    copied_tables = [name for name, path in sources.items() if path.is_file()]
    for name in copied_tables:
        shutil.copy2(sources[name], out / name)
    for name in ("compare.csv", "runs.csv", "seeds_runs.csv", "headline.json", "all_metrics.json"):
        if (tables / name).is_file():
            shutil.copy2(tables / name, out / name)
    pictures = {name: figures / name for name in FIGURE_FILES} | {
        "large_frame.png": detect / "large_frame.png",
        "threshold_curve.png": figures / "threshold" / "threshold_curve.png"}
    if (figures / "threshold" / "threshold.json").is_file():  # the SR-TOD run's measured t
        shutil.copy2(figures / "threshold" / "threshold.json", out / "threshold.json")
    copied_figures = {name: shrink_png(path, out / name) for name, path in pictures.items()
                      if path.is_file()}
    # the executed notebooks of the run, size-checked, beside its tables (srtod.report.published)
    from ..report.published import publish_notebooks

    notebooks = (publish_notebooks(results / "notebooks", out / "notebooks", results.parent)
                 if any((results / "notebooks").glob("*.ipynb")) else {})
    timing_file = results / "repro_time.json"
    timing = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
    # the checkout that made the results; dvc.lock is what a run rewrites, not a code change
    repo = results.resolve().parent
    tree = source(repo)
    commit, dirty = (tree["commit"] or "")[:7], tree["clean"] is False
    runs_csv = tables / "runs.csv"
    train_seconds = None
    if runs_csv.is_file():
        import pandas as pd

        table = pd.read_csv(runs_csv)
        train_seconds = float(table["train s"].fillna(0).sum()) if "train s" in table else None
    from .params import load_params, profile_runs

    runs = profile_runs(load_params(profile=profile)["active"])
    done = [r for r in runs if (run_dir("eval", r, results) / "metrics.json").is_file()]
    # each run's evaluation record (metrics, detections, its train summary with provenance and
    # fingerprints), so the tables' paired intervals can be recomputed from committed files
    from .study import write_record

    for run in done:
        if (run_dir("eval", run, results) / "detections.json").is_file():
            write_record(run, results, out / "records")
    training = trained_by(results, done)
    (out / "fingerprints.json").write_text(json.dumps(
        {"data": tree_fingerprint(PREPARED),
         "runs": training},
        indent=1) + "\n")
    reference = read_reference()
    provenance = {
        "profile": profile,
        "runs_evaluated": f"{len(done)} of the profile's {len(runs)}",
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "command": f"make repro  (params.yaml: profile: {profile})",
        "wall_seconds": timing.get("seconds"),
        "repro_finished": timing.get("finished"),
        "sum_of_training_seconds": train_seconds,
        "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "trained": {r: {k: v for k, v in t.items() if k != "epochs"}
                    for r, t in training.items()},
        "probe_reference": None if reference is None else {
            "fingerprint": reference["fingerprint"], "commit": reference["source"]["commit"]},
    }
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    wall = (f"{provenance['wall_seconds'] / 60:.1f} min" if provenance["wall_seconds"]
            else "not recorded (run through `make repro`)")
    lines = [f"# Results: `{profile}` profile", "",
             f"- commit: `{provenance['commit']}`",
             f"- command: `{provenance['command']}`, then `make publish`",
             f"- wall time of that `make repro`: {wall}"
             + (f" (finished {timing['finished']})" if timing.get("finished") else ""),
             f"- machine: {provenance['machine']}",
             f"- runs evaluated: {provenance['runs_evaluated']}"
             + ("" if len(done) == len(runs) else " (a partial run of this profile: "
                + ", ".join(done) + ")"),
             f"- trained: {_trained_line(provenance['trained'])}",
             "", "Runs trained under the numeric contract (docs/reproducibility.md) are meant to "
             "give these bits on every x86-64 machine with AVX2 at their commit (machines on "
             "record: docs/results/determinism/machines.csv); `make verify` re-trains the first "
             "epochs of one and compares (`fingerprints.json`).", ""]
    for name in copied_tables:
        lines += [(out / name).read_text().strip(), ""]
    if notebooks:
        lines += ["## Notebooks", "", "The executed notebooks of this run, with their outputs: "
                  + ", ".join(f"[{n}](notebooks/{n})" for n in notebooks) + ".", ""]
    lines += ["## Figures", ""]
    lines += [f"![{name}]({name})" for name in copied_figures]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    return out


def trained_by(results: Path, runs: list[str]) -> dict[str, dict]:
    """Per run: the commit that trained it (and whether the tree was clean), the machine, the
    numeric settings, and its weights' fingerprint after each epoch (``epochs``), from its train
    summary (runs trained before these were recorded have None)."""
    out = {}
    for run in runs:
        path = run_dir("train", run, results) / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        sittings = summary.get("provenance") or []
        first = sittings[0] if sittings else {}
        out[run] = {"commit": (first.get("source") or {}).get("commit"),
                    "clean": (first.get("source") or {}).get("clean"),
                    "machine": first.get("machine_id"),
                    "within_contract": all(s["numerics"]["within_contract"] for s in sittings)
                    if sittings else None,
                    "sittings": len(sittings),
                    "epochs": summary.get("fingerprints") or {}}
    return out


def _trained_line(trained: dict[str, dict]) -> str:
    commits = sorted({(t["commit"] or "?")[:10] + ("" if t["clean"] in (True, None) else
                                                  " (with changes)") for t in trained.values()})
    machines = sorted({t["machine"] or "not recorded" for t in trained.values()})
    contract = all(t["within_contract"] for t in trained.values())
    return (f"commit {', '.join(commits)}; {'; '.join(machines)}; "
            + ("every run within the numeric contract" if contract
               else "not every run within the numeric contract"))


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
