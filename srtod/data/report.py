"""What a converter or validator fixed, dropped or could not handle: counts plus one line per item.

Nothing is dropped silently: every change to the data is an :class:`Issue` naming the file and the
line/field, and the whole report is saved as json next to the output.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..paths import portable
from .cocoio import dump_json

#: what happened to the offending item
ACTIONS = ("fixed", "dropped", "kept", "error")


@dataclass(frozen=True)
class Issue:
    """One problem: ``kind`` (e.g. ``bbox_outside``), where (``file:line`` or ``file: field``),
    what happened (one of :data:`ACTIONS`) and a human-readable message."""

    kind: str
    where: str
    action: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.kind}, {self.action}] {self.message}"


@dataclass
class Report:
    """Counts and issues of one conversion or validation run."""

    task: str
    source: str
    counts: Counter = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, where: str, action: str, message: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
        self.issues.append(Issue(kind, where, action, message))
        self.counts[kind] += 1

    def count(self, key: str, n: int = 1) -> None:
        """Count something that is not a problem (e.g. images read, 'others' dropped by design)."""
        self.counts[key] += n

    def by_kind(self, kind: str) -> list[Issue]:
        return [i for i in self.issues if i.kind == kind]

    @property
    def n_errors(self) -> int:
        return sum(i.action == "error" for i in self.issues)

    @property
    def ok(self) -> bool:
        """True when nothing had to be fixed, dropped or reported as an error."""
        return not any(i.action in ("fixed", "dropped", "error") for i in self.issues)

    def summary(self, max_lines: int = 20) -> str:
        """Text summary: counts, then the first ``max_lines`` issues."""
        lines = [f"{self.task} report for {self.source}"]
        for key in sorted(self.counts):
            lines.append(f"  {key:<28s} {self.counts[key]}")
        actions = Counter(i.action for i in self.issues)
        lines.append("  issues: " + (", ".join(f"{n} {a}" for a, n in sorted(actions.items()))
                                     if actions else "none"))
        for issue in self.issues[:max_lines]:
            lines.append(f"    {issue}")
        if len(self.issues) > max_lines:
            lines.append(f"    ... and {len(self.issues) - max_lines} more "
                         f"(all in {self.outputs.get('report', 'the report json')})")
        for name, path in self.outputs.items():
            lines.append(f"  {name}: {path}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "source": portable(self.source),
            "ok": self.ok,
            "counts": dict(sorted(self.counts.items())),
            "outputs": {k: portable(v) for k, v in self.outputs.items()},
            "issues": [asdict(i) for i in self.issues],
        }

    def save(self, path: str | Path) -> Path:
        self.outputs["report"] = str(path)
        return dump_json(self.to_dict(), path, indent=1)
