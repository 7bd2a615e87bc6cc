"""The README and docs/ cannot rot: links resolve, commands parse, figures stay small.

Cheap checks only (no command is run, no model is built): every relative link and image path in
README.md and docs/**/*.md points to a file or folder of the repository; every ``python -m srtod``
command line shown in a code block is accepted by that verb's own argparse parser; every ``make``
target shown exists in the Makefile; every PNG under docs/ (and every image the README shows) is
at most 300 KB; docs/commands.md names every verb and every option of each verb's parser.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from srtod import cli
from srtod.paths import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MAX_PNG_BYTES = 300 * 1024

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
OPTION_ROW = re.compile(r"^\|\s*`(-[-\w]+)[^`]*`", re.M)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _code_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def _prose(text: str) -> str:
    """The text without its fenced code blocks and inline code."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _command_lines(block: str) -> list[str]:
    """The shell command lines of a code block: continuation lines joined, comments dropped,
    ``&&``/``;``/``|`` chains split."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:  # not shell (a Python or YAML block)
            continue
        part: list[str] = []
        for tok in [*tokens, "&&"]:
            if tok in ("&&", "||", ";", "|"):
                if part:
                    out.append(part)
                part = []
            else:
                part.append(tok)
    return out


def _srtod_argv(tokens: list[str]) -> list[str] | None:
    """The arguments after ``-m srtod`` (python, python3, torchrun ...) or a bare ``srtod``."""
    for i in range(len(tokens) - 1):
        if tokens[i] == "-m" and tokens[i + 1] == "srtod":
            return tokens[i + 2:]
    if tokens and tokens[0] == "srtod":
        return tokens[1:]
    return None


def _shown_commands():
    """(file, argv) of every ``python -m srtod`` command in a code block of the docs."""
    found = []
    for path in DOCS:
        for block in _code_blocks(path.read_text()):
            for tokens in _command_lines(block):
                argv = _srtod_argv(tokens)
                if argv is not None:
                    found.append((_rel(path), argv))
    return found


def _make_targets_shown():
    """(file, target) of every ``make <target>`` in code blocks and inline code."""
    found = set()
    for path in DOCS:
        text = path.read_text()
        code = _code_blocks(text) + INLINE_CODE.findall(FENCE.sub("", text))
        for snippet in code:
            for tokens in _command_lines(snippet):
                for i, tok in enumerate(tokens[:-1]):
                    if tok == "make" and not tokens[i + 1].startswith("-"):
                        found.add((_rel(path), tokens[i + 1]))
    return sorted(found)


def _makefile_targets() -> set[str]:
    text = re.sub(r"^define .*?^endef", "", (ROOT / "Makefile").read_text(), flags=re.M | re.S)
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.M))


def _verb_parser(verb: str):
    import argparse
    import importlib

    module = importlib.import_module(f"srtod.commands.{verb}")
    parser = argparse.ArgumentParser(prog=f"python -m srtod {verb}")
    module.add_arguments(parser)
    return parser


def test_the_docs_exist():
    names = {_rel(p) for p in DOCS}
    assert {"README.md", "docs/commands.md"} <= names
    assert len((ROOT / "README.md").read_text().splitlines()) <= 220  # a five-minute read


@pytest.mark.parametrize("path", DOCS, ids=_rel)
def test_links_and_images_resolve(path):
    missing = []
    for target in LINK.findall(_prose(path.read_text()).replace("\n", " ")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            missing.append(target)
    assert not missing, f"{_rel(path)}: links to missing paths {missing}"


def test_commands_shown_parse():
    commands = _shown_commands()
    assert len(commands) >= 20  # the scan finds the docs' commands
    bad = []
    for where, argv in commands:
        if not argv or argv[0] not in cli.COMMANDS:
            bad.append((where, argv, "unknown verb"))
            continue
        if "-h" in argv or "--help" in argv:
            continue
        try:
            cli.parse(argv)
        except SystemExit as e:  # argparse refused the line
            bad.append((where, argv, f"argparse exit {e.code}"))
    assert not bad, "\n".join(f"{w}: python -m srtod {' '.join(a)}  ({why})" for w, a, why in bad)


def test_make_targets_shown_exist():
    targets = _makefile_targets()
    assert {"setup", "repro", "test", "demo"} <= targets
    bad = [(w, t) for w, t in _make_targets_shown() if t not in targets]
    assert not bad, f"make targets shown but not in the Makefile: {bad}"


def test_pngs_are_small():
    pngs = set((ROOT / "docs").rglob("*.png"))
    readme = (ROOT / "README.md").read_text()
    pngs |= {ROOT / t for t in LINK.findall(readme) if t.lower().endswith(".png")}
    assert pngs
    big = {_rel(p): p.stat().st_size for p in pngs if p.stat().st_size > MAX_PNG_BYTES}
    assert not big, f"PNGs over 300 KB: {big}"


def _sections(text: str) -> dict[str, str]:
    """docs/commands.md split at its ``## `python -m srtod <verb>` `` headings."""
    parts = re.split(r"^## `python -m srtod (\w+)`.*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_commands_doc_names_every_verb_and_option():
    sections = _sections((ROOT / "docs" / "commands.md").read_text())
    assert set(sections) == set(cli.COMMANDS), "one section per verb of srtod.cli.COMMANDS"
    problems = []
    for verb, section in sections.items():
        parser = _verb_parser(verb)
        known = set()
        for action in parser._actions:
            known |= set(action.option_strings)
            names = action.option_strings or [action.dest]
            if "-h" in names:
                continue
            if not any(re.search(rf"`{re.escape(n)}(?![\w-])", section) for n in names):
                problems.append(f"{verb}: {names[0]} is not documented")
            if not action.option_strings and action.choices:  # positional choices: stages, ...
                problems += [f"{verb}: {action.dest} choice {c} is not documented"
                             for c in action.choices if f"`{c}`" not in section]
        # the reverse: an option row of the doc that the parser no longer has
        problems += [f"{verb}: documents {opt}, which the parser does not have"
                     for opt in OPTION_ROW.findall(section) if opt not in known]
    assert not problems, "\n".join(problems)
