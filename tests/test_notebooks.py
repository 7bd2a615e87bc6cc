"""Source notebooks are committed clean, parameterised for papermill, and thin."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from srtod.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_dvc_stage_has_its_notebook():
    dvc = (ROOT / "dvc.yaml").read_text()
    assert len(NOTEBOOKS) == 8
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in dvc


def test_every_stage_depends_on_the_whole_package():
    """Listing code dependencies by hand drifts (a stage omitted cost.py and config.py): every stage
    depends on the srtod package, and DVC ignores the bytecode caches inside it."""
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        deps = stage.get("deps", [])
        assert "srtod" in deps, name
        assert not [d for d in deps if str(d).startswith("srtod/")], name
    assert "__pycache__/" in (ROOT / ".dvcignore").read_text().split()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_parameterised(path):
    """Committed without outputs; one `parameters` cell whose `profile = "auto"` reads the
    workspace's last run, else smoke (tests/test_chapter.py runs both)."""
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "srtod"  # the kernel `make setup` registers
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and 'profile = "auto"' in "".join(tagged[0]["source"])
    assert sum(len("".join(c["source"]).splitlines()) for c in code) < 40  # logic lives in srtod/


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reads_as_a_chapter(path):
    """What it asks and its parameters first; a Chapter (profile, logs to a file, figures as
    images) before any work; a conclusion computed by srtod.report.conclusions last, never typed
    in; figures displayed through the chapter, not returned (`<Figure size ...>` under Agg)."""
    nb = json.loads(path.read_text())
    intro = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and intro.startswith("# ")
    assert "**Question.**" in intro and "**Parameters.**" in intro
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert f'Chapter("{path.stem}"' in code[1]
    assert all("with chapter.quiet():" in c for c in code[2:] if "_stage(" in c or
               "_experiments(" in c or "make_figures(" in c or "run_detect(" in c)
    last = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"
            and "".join(c["source"]).strip() == "## Conclusion"]
    assert len(last) == 1
    conclusion = "".join(nb["cells"][last[0] + 1]["source"])
    assert conclusion.splitlines()[-1].startswith("Markdown(conclusions.")
    assert not re.search(r'"[^"]{30,}"', conclusion)  # no sentence typed in
    assert not any(c.rstrip().splitlines()[-1].startswith(("plot_", "fig")) for c in code)


def test_nbstripout_keeps_the_parameters_tag(tmp_path):
    exe = Path(sys.executable).parent / "nbstripout"
    if not exe.exists():
        pytest.skip("nbstripout not installed")
    nb = json.loads(NOTEBOOKS[1].read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x\n"]}]
    nb["cells"][1]["execution_count"] = 3
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    subprocess.run([str(exe), "--keep-id", str(path)], check=True)
    stripped = json.loads(path.read_text())
    cell = stripped["cells"][1]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "parameters" in cell["metadata"]["tags"]


def test_each_stage_depends_on_the_profile_keys_it_reads():
    """Editing ``figures.num_images`` must not mark the trainings as changed: stages list the keys
    of the profile they read, and every listed key exists in every profile (DVC stops on a
    missing parameter)."""
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    profiles = yaml.safe_load((ROOT / "params.yaml").read_text())["profiles"]
    keys = {}
    for name, stage in stages.items():
        params = stage.get("params", [])
        assert "profiles.${profile}" not in params, name  # not the whole section
        keys[name] = {p.split(".", 2)[2] for p in params if p.startswith("profiles.${profile}.")}
        for profile, section in profiles.items():
            assert keys[name] <= set(section), (name, profile, keys[name] - set(section))
    assert "figures" not in keys["train"] | keys["evaluate"] and "figures" in keys["figures"]
    assert "detect" in keys["detect"] and "detect" not in keys["train"]
    assert keys["prepare"] == {"data"}


def _dvc_outs(path):
    """A dvc.yaml `outs` entry's path, whether written as a string or a one-key mapping."""
    return path if isinstance(path, str) else next(iter(path))


def test_stage_folders_are_named_once_in_the_layout():
    """dvc.yaml names no workspace folder itself: its deps and outs are ``${out.<name>}`` of
    srtod/layout.yaml (which srtod.paths reads too), and a notebook's ``out`` parameter gets one of
    its own stage's outs."""
    import re

    import yaml

    from srtod.paths import LAYOUT, RESULTS, WORKSPACE, output_dir

    layout = yaml.safe_load(LAYOUT.read_text())["out"]
    text = (ROOT / "dvc.yaml").read_text()
    assert yaml.safe_load(text)["vars"] == ["srtod/layout.yaml"]
    used = set(re.findall(r"\$\{out\.(\w+)\}", text))
    assert used <= set(layout) and {"prepared", "eval", "tables", "notebooks"} <= used
    body = "\n".join(line.split("#")[0] for line in text.splitlines())  # comments may name them
    for folder in layout.values():
        assert not re.search(rf"(?<![\w/.]){re.escape(folder)}\b", body), folder
    for name, stage in yaml.safe_load(text)["stages"].items():
        outs = [_dvc_outs(o) for o in stage["outs"]]
        for param, ref in re.findall(r"-p (\w+) (\$\{out\.\w+\})", stage["cmd"]):
            assert ref in outs, (name, param, ref)
        notebook = ROOT / re.search(r"notebooks/\S+\.ipynb", stage["cmd"]).group(0)
        cell = next(c for c in json.loads(notebook.read_text())["cells"]
                    if "parameters" in c.get("metadata", {}).get("tags", []))
        declared = re.findall(r"^(\w+) =", "".join(cell["source"]), flags=re.M)
        assert set(re.findall(r"-p (\w+) ", stage["cmd"])) <= set(declared), name
    for name, folder in layout.items():
        assert output_dir(name) == WORKSPACE / folder
        if folder.startswith("results/"):
            assert output_dir(name).parent == RESULTS
    with pytest.raises(KeyError, match="layout.yaml: no folder 'evals'"):
        output_dir("evals")


def test_stage_out_reads_a_parameter_against_the_workspace():
    from srtod.paths import WORKSPACE, output_dir, run_dir, stage_out

    assert stage_out("", "tables") == output_dir("tables")
    assert stage_out("results/x", "tables") == WORKSPACE / "results" / "x"  # papermill runs in notebooks/
    assert stage_out("/abs/x", "tables") == Path("/abs/x")
    assert run_dir("eval", "r") == output_dir("eval") / "r"
    assert run_dir("train", "r", results=Path("/tmp/res")) == Path("/tmp/res/train/r")


def test_stages_run_their_kernels_on_unix_sockets(tmp_path):
    """Every stage runs papermill with the engine `srtod`, whose kernels use ZeroMQ's IPC transport:
    two stages started at the same instant (`dvc queue start -j 2`) cannot pick the same TCP port,
    which killed one experiment's kernel ("Address already in use") in CI. Two notebooks run at once
    through papermill's command line both finish, on IPC."""
    import nbformat
    import yaml

    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        assert "papermill --engine srtod " in stage["cmd"], name
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": json.loads(NOTEBOOKS[0].read_text())[
        "metadata"]["kernelspec"]})
    nb.cells = [nbformat.v4.new_code_cell(
        "import json\nfrom ipykernel.connect import get_connection_info\n"
        "print(json.loads(get_connection_info())['transport'])")]
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill = Path(sys.executable).parent / "papermill"
    runs = [subprocess.Popen([str(papermill), "--engine", "srtod", "--no-progress-bar", "in.ipynb",
                              f"out{i}.ipynb"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    for i, run in enumerate(runs):
        assert run.wait(timeout=300) == 0, run.stderr.read()[-3000:]
        out = nbformat.read(tmp_path / f"out{i}.ipynb", as_version=4)
        assert out.cells[0].outputs[0]["text"].strip() == "ipc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ipynb", "out0.ipynb", "out1.ipynb"]
