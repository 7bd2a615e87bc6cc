"""What every notebook does first: which profile it reads, where the logs go, how figures show.

A notebook's ``parameters`` cell holds ``profile = "auto"``: the profile of the last run of this
workspace, read from that run's record, the executed notebook that the pipeline left in
``results/notebooks/`` (papermill writes the parameters it was given into the notebook's
metadata). Opened in JupyterLab after ``make repro``, a notebook therefore reads the profile that
ran; where nothing ran yet (a fresh clone, the tests' workspace) it reads ``smoke``, whose runs
take seconds. ``dvc repro`` and ``make demo`` pass the profile explicitly.

Each chapter writes the libraries' logs (mmengine's weight initialisation and runner, progress
bars, srtod's INFO lines) to ``results/notebooks/<notebook>.log`` beside the executed notebook,
and shows figures as PNG images whatever matplotlib's backend (``make demo`` sets
``MPLBACKEND=Agg``, under which a returned figure prints as ``<Figure size ...>``).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import IO, Any

from ..paths import output_dir, portable
from ..quiet import logs_to, route_library_logs

AUTO = "auto"
SMOKE = "smoke"  # the profile where nothing ran: every stage in seconds
_LOGS: dict[str, IO[str]] = {}  # one open log per notebook per process (see srtod.quiet.logs_to)
#: what each figure of the pipeline shows, by the start of its file name
FIGURE_CAPTIONS = {
    "size_histogram": "Object sizes against the AI-TOD buckets.",
    "threshold_curve": "The threshold curve of the SR-TOD run (validation split): for every t, the "
                       "share of boxes per size that D_b touches against the share of background "
                       "it switches on; the recommended t and the paper's values marked.",
    "fig1_difference_map": "Fig. 1 analog: a test image with its drones, the zoomed crop, the "
                           "finest features, the reconstruction, the difference map D and the "
                           "binary map D_b.",
    "fig3_pd_vs_hfd": "Fig. 3 analog: the pixel difference map against the high-frequency one.",
    "fig4_features_without_with_srtod": "Fig. 4 analog: the finest-level features on the same "
                                        "crops, without and with SR-TOD.",
    "training_curves": "Training: total loss, reconstruction loss, DGFE's threshold t and the "
                       "share of pixels D_b switches on, one line per experiment (seed 0).",
    "val_ap_curves": "Validation AP against iterations, one line per run: flat at the end means "
                     "converged.",
    "paired_differences": "Each experiment minus its reference, paired by seed, with the "
                          "seed-level and image-level 95% intervals.",
    "pr_curves_by_size": "Precision-recall per AI-TOD size bucket.",
    "difference_map_coverage": "The share of boxes per size that D_b touches, against the share "
                               "of background it covers.",
    "seed_spread": "AP and APvt per seed: the spread a single run hides.",
    "large_frame": "A large frame: detections of the whole frame and of the slices, with D and "
                   "D_b of the sliced pass.",
    "detection_changes": "Where detections changed against the study's baseline.",
}


def last_run(notebook: str, folder: Path | None = None) -> dict | None:
    """The record of the last pipeline run of ``notebook`` (a name such as ``02_train``) in this
    workspace: ``{"path", "parameters", "end_time"}`` from the executed notebook papermill left in
    ``folder`` (default: the layout's ``notebooks``), or None when it has none, or none that names
    a profile."""
    path = (output_dir("notebooks") if folder is None else Path(folder)) / f"{notebook}.ipynb"
    try:
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
    except (OSError, ValueError):
        return None
    parameters = meta.get("parameters") or {}
    if parameters.get("profile") in (None, "", AUTO):
        return None
    return {"path": path, "parameters": parameters, "end_time": meta.get("end_time")}


def resolve_parameters(notebook: str, given: dict[str, Any], smoke: dict[str, Any] | None = None,
                       folder: Path | None = None) -> tuple[dict[str, Any], str]:
    """The values of a notebook's parameters, each ``"auto"`` one replaced, and where they came
    from (a sentence).

    ``auto`` means the last run's value (:func:`last_run`). Without a run of its own, ``profile``
    is ``smoke`` and every other ``auto`` parameter takes its value from ``smoke`` (the notebook's
    quick choice, e.g. ``02_train``'s one run). With a run that did not pass a parameter, an
    ``auto`` ``experiments`` is ``all`` (what the pipeline's stages pass) and any other takes the
    ``smoke`` value."""
    smoke = smoke or {}
    values = dict(given)
    auto = [k for k, v in values.items() if v == AUTO]
    if not auto:
        return values, f"profile `{values.get('profile')}`, given as a parameter"
    record = last_run(notebook, folder)
    if record is not None and values.get("profile") == AUTO:
        for key in auto:
            if key in record["parameters"]:
                values[key] = record["parameters"][key]
            else:
                values[key] = "all" if key == "experiments" else smoke.get(key, values[key])
        when = f", executed {record['end_time'][:16].replace('T', ' ')} UTC" \
            if record.get("end_time") else ""
        return values, (f"profile `{values['profile']}`, the last run of this workspace "
                        f"(`{portable(record['path'])}`{when})")
    for key in auto:
        values[key] = SMOKE if key == "profile" else smoke.get(key, "all")
    if "profile" in auto:
        return values, ("profile `smoke`: no run of this notebook in this workspace yet "
                        "(`make repro` or `dvc repro` leaves one; give `profile` to choose)")
    return values, f"profile `{values.get('profile')}`, given as a parameter"


class Chapter:
    """A notebook's set-up: its parameters resolved, its log file opened and its figures shown.

    Example (a notebook's first code cell)::

        chapter = Chapter("02_train", profile=profile, experiments=experiments,
                          smoke={"experiments": "faster_rcnn_srtod"})
        params = chapter.params          # params.yaml with the profile resolved
        with chapter.quiet():            # mmengine's logs into the log file
            ...
        chapter.show(fig)                # a matplotlib figure, as a PNG
    """

    def __init__(self, notebook: str, *, smoke: dict[str, Any] | None = None,
                 log_dir: Path | None = None, **parameters: Any) -> None:
        self.notebook = notebook
        self.values, self.source = resolve_parameters(notebook, parameters, smoke)
        self.profile = self.values.get("profile")
        folder = output_dir("notebooks") if log_dir is None else Path(log_dir)
        self.log_path = folder / f"{notebook}.log"
        self.log = _open_log(self.log_path)
        route_library_logs(self.log)
        self._params: dict | None = None

    @property
    def params(self) -> dict:
        """``params.yaml`` with the chapter's profile under ``active``
        (:func:`srtod.stages.params.load_params`)."""
        if self._params is None:
            from ..stages.params import load_params

            self._params = load_params(profile=self.profile)
        return self._params

    @property
    def runs(self) -> list[str]:
        """The runs named by the ``experiments`` parameter: ``all`` is every run of the profile
        (seeds included), else the comma-separated names."""
        from ..stages.params import profile_runs

        experiments = str(self.values.get("experiments", "all"))
        if experiments == "all":
            return profile_runs(self.params["active"])
        return [e.strip() for e in experiments.split(",") if e.strip()]

    def header(self) -> str:
        """One markdown line: the profile and where it came from, and where the logs go."""
        return (f"Reading {self.source}. Logs of the libraries: `{portable(self.log_path)}`.")

    def _repr_markdown_(self) -> str:
        return self.header()

    def quiet(self) -> contextlib.AbstractContextManager:
        """A block whose output (mmengine's runner and weight-initialisation logs, progress bars,
        prints of compiled code) goes to the chapter's log file."""
        return logs_to(self.log)

    def show(self, figure) -> None:
        """Display a matplotlib figure as a PNG image and close it (with the inline backend an
        open figure would show a second time); ``None`` shows nothing."""
        if figure is None:
            return
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        display(Image(data=buffer.getvalue(), format="png"))

    @staticmethod
    def show_file(path: Path | str, caption: bool = True) -> None:
        """Display a PNG file written by a stage, after its caption (:data:`FIGURE_CAPTIONS`)
        when ``caption`` and it has one."""
        from IPython.display import Image, Markdown, display

        name = Path(path).stem
        text = next((t for k, t in FIGURE_CAPTIONS.items() if name.startswith(k)), None)
        if caption and text:
            display(Markdown(f"**{name}** · {text}"))
        display(Image(filename=str(path)))


def _open_log(path: Path) -> IO[str]:
    """The chapter's log file, truncated when first opened in this process and kept open (a
    logger created in a quiet block writes to it for the process's life)."""
    key = str(path.resolve()) if path.exists() else str(path)
    log = _LOGS.get(key)
    if log is None or log.closed:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "w", buffering=1)  # noqa: SIM115 -- open for the process's life
        _LOGS[str(path.resolve())] = log
    return log

