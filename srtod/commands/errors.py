"""Shared by the commands that read data (`generate`, `convert`, `validate`, `stats`, `train`): bad
input gives a one-line `error: <file:line: what>` on stderr and exit code 2, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..data.cocoio import DataError


def guarded(fn: Callable[[], int]) -> int:
    """Run ``fn``; print data/file errors as ``error: <message>`` on stderr and return 2."""
    try:
        return fn()
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
    except (FileNotFoundError, NotADirectoryError, PermissionError, IsADirectoryError) as err:
        name = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"error: {name}{err.strerror or err}", file=sys.stderr)
    except (KeyError, ValueError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
    return 2
