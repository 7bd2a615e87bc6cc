"""The executed notebooks of the published benchmark (docs/results/default/notebooks): small, run on
the published profile, quiet, and showing the numbers of the published tables."""

import base64
import json
import re

import pytest

from srtod.paths import ROOT
from srtod.report.published import (
    MAX_IMAGE_BYTES,
    MAX_NOTEBOOK_BYTES,
    MAX_TOTAL_BYTES,
    clean_notebook,
    markdown_tables,
    notebook_markdown,
    publish_notebooks,
    shrink_png_bytes,
)

PUBLISHED = ROOT / "docs" / "results" / "default"
NOTEBOOKS = sorted((PUBLISHED / "notebooks").glob("*.ipynb"))
#: columns that a notebook measures again when it runs (times), not read from the runs: the
#: published notebooks were executed after the runs, the tables were written by the run itself
MEASURED = {"s/image (test)", "time_ms_base", "time_ms_srtod", "time_ratio", "time_ratio_low",
            "time_ratio_high", "s/frame"}


def load(name: str) -> dict:
    return json.loads((PUBLISHED / "notebooks" / f"{name}.ipynb").read_text())


def published_tables(*names: str) -> dict[str, list[list[str]]]:
    found = {}
    for name in names:
        if (PUBLISHED / name).is_file():
            found |= markdown_tables((PUBLISHED / name).read_text())
    return found


def shown_tables(notebook: str) -> dict[str, list[list[str]]]:
    return markdown_tables("\n\n".join(notebook_markdown(load(notebook))))


def same_table(shown: list[list[str]], published: list[list[str]], title: str) -> None:
    """Every published row is shown, in order and with the same cells (but measured times); a
    shown row that the publication lacks is a row of an experiment the profile did not run (the
    notebooks' code may know experiments that the code which published did not)."""
    header = published[0]
    assert shown[0] == header, title
    keep = [i for i, column in enumerate(header) if column not in MEASURED]

    def cells(row):
        return [row[i] for i in keep]

    def unrun(row):
        return "not run in this profile" in row or ("AP" in header and row[header.index("AP")] == "-")

    rows = iter(shown[1:])
    for row in published[1:]:
        for candidate in rows:
            if cells(candidate) == cells(row):
                break
            assert unrun(candidate), (title, "shown, not published", candidate[0])
        else:
            raise AssertionError((title, "published, not shown", row[0]))
    assert all(unrun(row) for row in rows), title


def test_every_stage_notebook_is_published():
    assert [p.stem for p in NOTEBOOKS] == sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_published_notebook_is_small_ran_the_default_and_is_quiet(path):
    """Size-checked (figures shrunk), executed on the published profile with every cell's
    output, no error and no stderr (no warning or log a reader must skip), a computed
    conclusion, and no absolute path of the machine that ran it."""
    text = path.read_text()
    assert len(text.encode()) <= MAX_NOTEBOOK_BYTES
    nb = json.loads(text)
    assert nb["metadata"]["papermill"]["parameters"]["profile"] == "default"
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"], path.name
    for o in outputs:
        png = o.get("data", {}).get("image/png")
        if png:
            assert len(base64.b64decode("".join(png))) <= MAX_IMAGE_BYTES
        assert "<Figure size" not in "".join(o.get("data", {}).get("text/plain", ""))
    markdown = notebook_markdown(nb)
    assert markdown[0].startswith("Reading profile `default`, given as a parameter")
    heading = max(i for i, c in enumerate(nb["cells"]) if "## Conclusion" in "".join(c["source"]))
    after = [c for c in nb["cells"][heading + 1:] if c["cell_type"] == "code"][0]
    assert "conclusions." in "".join(after["source"]) and notebook_markdown({"cells": [after]})
    assert "/work/" not in text and "/tmp/" not in text


def test_published_notebooks_fit_together():
    assert sum(p.stat().st_size for p in NOTEBOOKS) <= MAX_TOTAL_BYTES


def test_tables_notebook_shows_the_published_tables():
    shown = shown_tables("05_tables")
    published = published_tables("compare.md", "convergence.md", "table1.md", "table4.md",
                                 "table5.md", "table6.md", "table7.md", "seeds.md", "runs.md",
                                 "cost.md")
    assert len(published) >= 9
    for title, table in published.items():
        assert title in shown, title
        same_table(shown[title], table, title)


def test_tables_conclusion_quotes_the_published_comparison():
    compare = next(t for title, t in published_tables("compare.md").items() if title)
    sentence = notebook_markdown(load("05_tables"))[-2]  # the conclusion, before every table
    for row in compare[1:]:
        metric, difference, seed, image = row[1], row[5], row[6], row[7]
        assert (f"{metric} {difference} (over seeds {seed}, over test images {image})"
                in sentence), metric
    assert "**Verdict: " in sentence


def test_evaluate_conclusion_quotes_the_published_seed_means():
    seeds = next(iter(published_tables("seeds.md").values()))
    value = {(r[0], r[1]): (r[2], r[3]) for r in seeds[1:]}
    sentence = notebook_markdown(load("03_evaluate"))[-1]
    for experiment in {r[0] for r in seeds[1:]}:
        (ap, ap_sd), (vt, vt_sd) = value[experiment, "AP"], value[experiment, "APvt"]
        assert f"{experiment} AP {ap} ± {ap_sd}, APvt {vt} ± {vt_sd} (3 seeds)" in sentence


def test_train_conclusion_trained_nothing_and_matches_the_runs_table():
    runs = next(iter(published_tables("runs.md").values()))
    epochs, iterations = {r[2] for r in runs[1:]}, {r[3] for r in runs[1:]}
    assert len(epochs) == len(iterations) == 1
    sentence = notebook_markdown(load("02_train"))[-1]
    assert sentence.startswith(f"{len(runs) - 1} runs trained {epochs.pop()} epochs "
                               f"({iterations.pop()} iterations); {len(runs) - 1} of "
                               f"{len(runs) - 1} were complete before this notebook ran")


def test_cost_and_detect_notebooks_show_the_published_rows():
    cost = next(iter(published_tables("cost.md").values()))
    sentence = notebook_markdown(load("04_cost"))[-1]
    for row in cost[1:]:
        r = dict(zip(cost[0], row, strict=True))
        percent = 100 * (float(r["params_ratio"]) - 1)
        found = re.search(rf"{re.escape(r['detector'])}: \+([\d.]+)% parameters, ([\d.]+)x GFLOPs",
                          sentence)
        assert found and abs(float(found[1]) - percent) <= 0.1 + 1e-9
        assert abs(float(found[2]) - float(r["gflops_ratio"])) <= 0.005 + 1e-9
    detect = published_tables("detect.md")
    shown = shown_tables("07_detect")
    for title, table in detect.items():
        same_table(shown[title], table, title)


def test_study_notebook_shows_the_published_study():
    study = markdown_tables((ROOT / "docs/results/threshold_study/study.md").read_text())
    shown = shown_tables("08_threshold_study")
    for title, table in study.items():
        if title:
            same_table(shown[title], table, title)


def test_publish_shrinks_figures_and_drops_the_workspace_path(tmp_path):
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (700, 900, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="PNG")
    big = buffer.getvalue()
    assert len(big) > MAX_IMAGE_BYTES
    assert len(shrink_png_bytes(big)) <= MAX_IMAGE_BYTES
    nb = {"cells": [{"cell_type": "code", "source": "x", "metadata": {}, "execution_count": 1,
                     "outputs": [{"output_type": "display_data", "metadata": {},
                                  "data": {"image/png": base64.b64encode(big).decode(),
                                           "text/markdown": f"see `{tmp_path}/results/x.md`"}},
                                 {"output_type": "stream", "name": "stdout",
                                  "text": [f"{tmp_path}/work_dirs/a\n"]}]}],
          "metadata": {"papermill": {"input_path": "notebooks/x.ipynb",
                                     "output_path": f"{tmp_path}/results/notebooks/x.ipynb"}},
          "nbformat": 4, "nbformat_minor": 5}
    clean = clean_notebook(nb, tmp_path)
    data = clean["cells"][0]["outputs"][0]["data"]
    assert len(base64.b64decode(data["image/png"])) <= MAX_IMAGE_BYTES
    assert data["text/markdown"] == "see `results/x.md`"
    assert clean["cells"][0]["outputs"][1]["text"] == "work_dirs/a\n"
    assert clean["metadata"]["papermill"]["output_path"] == "results/notebooks/x.ipynb"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.ipynb").write_text(json.dumps(nb))
    sizes = publish_notebooks(tmp_path / "in", tmp_path / "out", tmp_path)
    assert list(sizes) == ["x.ipynb"] and sizes["x.ipynb"] <= MAX_NOTEBOOK_BYTES
    with pytest.raises(ValueError, match="x.ipynb: .* bytes after shrinking"):
        publish_notebooks(tmp_path / "in", tmp_path / "out2", tmp_path, max_bytes=1000)


def test_markdown_tables_reads_titles_and_rows():
    text = "### A\n\nintro\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n### B\n\n| c |\n| --- |\n| x |\n"
    assert markdown_tables(text) == {"A": [["a", "b"], ["1", "2"]], "B": [["c"], ["x"]]}
