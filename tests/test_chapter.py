"""What every notebook does first (srtod.report.Chapter): the profile of the last run, else smoke;
the libraries' logs in a file beside the executed notebook; figures as images; no warning a reader
must skip (srtod.quiet)."""

import importlib
import json
import logging
import os
import warnings
from pathlib import Path

import pytest

from srtod.paths import ROOT
from srtod.report.chapter import Chapter, last_run, resolve_parameters


def executed(folder: Path, notebook: str, **parameters) -> Path:
    """An executed notebook as papermill leaves it: its parameters in the metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {"papermill": {
        "parameters": parameters, "end_time": "2026-12-07T16:40:00.123456"}}}))
    return path


def test_without_a_run_a_notebook_reads_smoke_and_its_quick_runs(tmp_path):
    values, source = resolve_parameters("02_train", {"profile": "auto", "experiments": "auto",
                                                     "workers": 0},
                                        smoke={"experiments": "faster_rcnn_srtod"},
                                        folder=tmp_path)
    assert values == {"profile": "smoke", "experiments": "faster_rcnn_srtod", "workers": 0}
    assert source.startswith("profile `smoke`: no run of this notebook in this workspace yet")


def test_after_a_run_a_notebook_reads_the_profile_that_ran(tmp_path):
    executed(tmp_path, "02_train", profile="default", experiments="all")
    values, source = resolve_parameters("02_train", {"profile": "auto", "experiments": "auto"},
                                        smoke={"experiments": "faster_rcnn_srtod"},
                                        folder=tmp_path)
    assert values == {"profile": "default", "experiments": "all"}
    assert "the last run of this workspace" in source and "2026-12-07 16:40 UTC" in source
    # a stage the pipeline ran without `experiments` reads every run of the profile
    executed(tmp_path, "03_evaluate", profile="study")
    values, _ = resolve_parameters("03_evaluate", {"profile": "auto", "experiments": "auto"},
                                   smoke={"experiments": "faster_rcnn_srtod"}, folder=tmp_path)
    assert values == {"profile": "study", "experiments": "all"}


def test_a_given_profile_wins_over_the_record(tmp_path):
    executed(tmp_path, "05_tables", profile="default")
    values, source = resolve_parameters("05_tables", {"profile": "smoke"}, folder=tmp_path)
    assert values == {"profile": "smoke"} and source == "profile `smoke`, given as a parameter"
    values, _ = resolve_parameters("02_train", {"profile": "default", "experiments": "auto"},
                                   smoke={"experiments": "faster_rcnn_srtod"}, folder=tmp_path)
    assert values["experiments"] == "faster_rcnn_srtod"  # no record of 02_train here


def test_a_record_without_a_profile_is_no_record(tmp_path):
    executed(tmp_path, "04_cost", profile="auto")
    assert last_run("04_cost", tmp_path) is None
    (tmp_path / "06_figures.ipynb").write_text("not json")
    assert last_run("06_figures", tmp_path) is None


def test_chapter_logs_go_to_a_file_beside_the_notebook(tmp_path, capfd):
    chapter = Chapter("04_cost", profile="smoke", log_dir=tmp_path)
    assert chapter.profile == "smoke" and chapter.params["profile"] == "smoke"
    assert chapter.log_path == tmp_path / "04_cost.log"
    assert "`smoke`, given as a parameter" in chapter._repr_markdown_()
    capfd.readouterr()
    with chapter.quiet():
        print("python level")
        os.write(1, b"fd level\n")
        logging.getLogger("srtod.stages.cost").info("an INFO line of srtod")
    out, err = capfd.readouterr()
    assert "python level" not in out + err and "fd level" not in out + err
    log = chapter.log_path.read_text()
    assert "python level" in log and "fd level" in log and "an INFO line of srtod" in log


def test_weight_initialisation_logs_go_to_the_chapter_log(tmp_path, capfd):
    """mmengine writes one line per parameter to the current logger when it has no file handler
    (2,914 lines in 04_cost before); the chapter's logger has one."""
    import torch.nn as nn
    from mmengine.model import BaseModule

    class Net(BaseModule):
        def __init__(self):
            super().__init__(init_cfg=dict(type="Kaiming", layer="Conv2d"))
            self.conv = nn.Conv2d(3, 4, 3)

    chapter = Chapter("04_cost", profile="smoke", log_dir=tmp_path / "w")
    capfd.readouterr()
    Net().init_weights()
    out, err = capfd.readouterr()
    assert "conv.weight" not in out + err
    assert "conv.weight" in chapter.log_path.read_text()


def test_show_displays_a_png_whatever_the_backend(monkeypatch, tmp_path):
    """Under MPLBACKEND=Agg (make demo) a returned figure prints as `<Figure size ...>`; the
    chapter displays the PNG itself and closes the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    Chapter.show(None, fig)
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)
    Chapter.show(None, None)
    assert len(shown) == 1


def test_pkg_resources_warning_is_silenced_by_its_message_only():
    """mmengine's package_utils imports and reloads pkg_resources, which warns on every import
    under setuptools 80 (`pkg_resources is deprecated as an API`); import srtod silences that
    message and nothing else."""
    from srtod.quiet import silence_known_warnings

    with warnings.catch_warnings():
        silence_known_warnings()  # pytest restores the filters of collection time per test
        import pkg_resources
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(pkg_resources)  # the control: it warns
    assert any("pkg_resources is deprecated" in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_known_warnings()  # what `import srtod` does
        importlib.reload(pkg_resources)
        warnings.warn("another UserWarning", UserWarning, stacklevel=1)
    assert not any("pkg_resources" in str(w.message) for w in caught)
    assert any("another UserWarning" in str(w.message) for w in caught)


def _run_cells(notebook: str, cells: int, workspace: Path, timeout: int = 600) -> list[dict]:
    """The first ``cells`` code cells of a notebook run on the `srtod` kernel in ``workspace``;
    their outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"][:cells]
    nb.cells = code
    env = {**os.environ, "SRTOD_WORKSPACE": str(workspace), "MPLBACKEND": "Agg"}
    NotebookClient(nb, timeout=timeout, kernel_name="srtod",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute(env=env)
    return [o for c in nb.cells for o in c.outputs]


@pytest.mark.parametrize("recorded", [False, True], ids=["fresh clone", "after make repro"])
def test_notebook_opened_in_a_workspace_reads_its_profile(tmp_path, recorded):
    """Both at once: a notebook run as committed (the parameters cell's `auto`) reads `smoke`
    where nothing ran (CI, nbval on a fresh clone) and the profile of the workspace's last run
    after `make repro`, as JupyterLab shows it."""
    if recorded:
        executed(tmp_path / "results" / "notebooks", "05_tables", profile="default")
    outputs = _run_cells("05_tables", 2, tmp_path)
    header = next("".join(o["data"]["text/markdown"]) for o in outputs
                  if "text/markdown" in o.get("data", {}))
    if recorded:
        assert header.startswith("Reading profile `default`, the last run of this workspace "
                                 "(`results/notebooks/05_tables.ipynb`")
    else:
        assert header.startswith("Reading profile `smoke`: no run of this notebook")
    assert "`results/notebooks/05_tables.log`" in header
    assert not [o for o in outputs if o.get("name") == "stderr"]  # no warning to skip
