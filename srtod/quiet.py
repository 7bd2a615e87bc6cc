"""Output a reader need not skip: one known third-party warning silenced at import, and the
libraries' logs of a long call sent to a file.

``import srtod`` calls :func:`silence_known_warnings`. The notebooks send mmengine's logs (weight
initialisation: one line per parameter; the runner's per-iteration lines), the progress bars and
srtod's own INFO logs to a log file beside the executed notebook with :func:`logs_to`
(:class:`srtod.report.Chapter` does it for each notebook).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: ``(message regex, category)`` of each warning silenced at ``import srtod``, with where it
#: comes from. mmengine's ``utils.package_utils.is_installed`` and ``get_installed_path`` import
#: (and reload) setuptools' ``pkg_resources`` each time a config with ``mmdet::`` or
#: ``custom_imports`` loads; setuptools 80 warns on every import that the API is deprecated.
#: srtod pins setuptools 80.9.0 because mmengine 0.10.7 needs ``pkg_resources``
#: (requirements/base.txt), so the warning says nothing a user can act on.
#: tqdm's ``tqdm.auto``, imported in a Jupyter kernel (srtod.engine.hooks, srtod.inference), warns
#: that ipywidgets is missing and falls back to the text bar: the notebooks send bars to their
#: log file anyway, and ipywidgets is not a dependency.
_HANDLER: logging.Handler | None = None  # the handler route_library_logs gave srtod's logger

KNOWN_WARNINGS = ((r"pkg_resources is deprecated as an API", UserWarning),
                  (r"IProgress not found\. Please update jupyter and ipywidgets", Warning))


def silence_known_warnings() -> None:
    """Ignore the warnings of :data:`KNOWN_WARNINGS`, matched by message and category only (every
    other warning, of mmengine or anyone, still shows)."""
    for message, category in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


@contextlib.contextmanager
def logs_to(log: IO[str]) -> Iterator[IO[str]]:
    """Within the block, stdout and stderr, at the Python level and the file-descriptor level
    (compiled code, child processes), go to the open text file ``log``; mmengine's loggers
    created within write there too (their stream handlers bind ``sys.stdout`` when created).

    ``log`` must stay open while the process lives: a logger created in the block keeps writing
    to it (:class:`srtod.report.Chapter` opens it once per kernel)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log.flush()
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield log
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def route_library_logs(log: IO[str]) -> None:
    """Send the INFO lines of srtod's loggers and of mmengine's current logger to ``log`` from
    now on, and keep only their warnings for the screen.

    mmengine's weight initialisation writes one line per parameter to the current ``MMLogger``
    unless that logger has a file handler, where it writes a table instead: a current logger with
    ``log`` as its file keeps those thousands of lines out of a notebook."""
    global _HANDLER
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s",
                                           "%H:%M:%S"))
    handler.setLevel(logging.INFO)
    srtod_log = logging.getLogger("srtod")
    srtod_log.setLevel(logging.INFO)
    if _HANDLER is not None:  # one chapter's log at a time
        srtod_log.removeHandler(_HANDLER)
    srtod_log.addHandler(handler)
    _HANDLER = handler
    try:
        from mmengine.logging import MMLogger
    except ImportError:  # mmengine absent: nothing else logs
        return
    # a new instance is mmengine's current logger (the latest created), which its weight
    # initialisation writes to
    logger = MMLogger.get_instance(f"srtod-notebook-{Path(log.name).stem}-{uuid.uuid4().hex[:8]}",
                                   logger_name="mmengine", log_level="INFO")
    for h in list(logger.handlers):
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            h.setLevel(logging.WARNING)
    if not any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        file_handler = _OpenFileHandler(log)
        file_handler.setLevel(logging.INFO)
        logger.addHandler(file_handler)


class _OpenFileHandler(logging.FileHandler):
    """A :class:`logging.FileHandler` on a file already open (mmengine's weight-initialisation
    table writes to the ``stream`` of the current logger's file handlers)."""

    def __init__(self, stream: IO[str]) -> None:
        logging.Handler.__init__(self)
        self.baseFilename = os.path.abspath(stream.name)
        self.mode, self.encoding, self.delay, self.errors = "a", None, False, None
        self.stream = stream

    def close(self) -> None:  # the stream belongs to the caller
        self.stream.flush()
