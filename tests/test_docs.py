"""The README, the model card and docs/ point at things that exist, so that moving a section or renaming a script
cannot leave a reader at a dead end: every relative link (with its #anchor), every file path they name in code,
every `emolens` command line in their bash blocks, and every option they give an `emolens` command or a benchmark."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from emolens.cli import build_parser
from support import REPO

DOCUMENTS = [REPO / "README.md", REPO / "MODEL_CARD.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
#: Paths of files in this repository as the documents name them in code spans and blocks.
_PATH = re.compile(r"(?<![\w./-])((?:benchmarks|scripts|tests|src)/[\w./-]+\.(?:py|sh|txt|json|onnx))")
#: A path with a placeholder in capitals stands for many (`src/emolens/models/emolens-NAME.onnx`).
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])[A-Z]{3,}(?![A-Za-z])")
_BENCH = re.compile(r"python3? ((?:benchmarks|scripts)/\w+\.py)([^`\n|]*)")
_FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")
_EMOLENS = re.compile(r"`(?:python -m )?emolens ([a-z]+)([^`]*)`")


def _prose(document: Path) -> str:
    """The document without fenced blocks and HTML comments (links and headings live outside them)."""
    return _FENCE.sub("", _COMMENT.sub("", document.read_text(encoding="utf-8")))


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def _anchors(document: Path) -> frozenset[str]:
    prose = _prose(document)
    headings = re.findall(r"^#{1,6} (.+)$", prose, flags=re.MULTILINE)
    explicit = re.findall(r'<a id="([^"]+)">', document.read_text(encoding="utf-8"))
    return frozenset({_slug(h) for h in headings} | set(explicit))


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(REPO)) for d in DOCUMENTS])
def test_links_reach_a_file_and_a_heading(document: Path) -> None:
    dead = []
    for target in _LINK.findall(_prose(document)):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            dead.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            dead.append(f"{target}: no heading with that anchor in {file.name}")
    assert not dead, "\n".join(dead)


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(REPO)) for d in DOCUMENTS])
def test_named_files_exist(document: Path) -> None:
    text = _COMMENT.sub("", document.read_text(encoding="utf-8"))
    missing = sorted({p for p in _PATH.findall(text) if not (REPO / p).exists() and not _PLACEHOLDER.search(p)})
    assert not missing, f"{document.name} names files that do not exist: {missing}"


def _subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of a parser and of its sub-commands (`emolens recipe run --plan-only`)."""
    found = {s for action in parser._actions for s in action.option_strings}
    for sub in _subcommand_parsers(parser).values():
        found |= _options(sub)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(REPO)) for d in DOCUMENTS])
def test_emolens_commands_parse_and_take_the_options_shown(document: Path) -> None:
    parser = build_parser()
    commands = _subcommand_parsers(parser)
    text = _COMMENT.sub("", document.read_text(encoding="utf-8"))
    for lang, body in _FENCE.findall(text):  # whole command lines in bash blocks must parse as they are
        if lang != "bash":
            continue
        for line in body.splitlines():
            for command in filter(None, (part.strip() for part in line.split("  #")[0].split("&&"))):
                words = shlex.split(command)
                if words and Path(words[0]).name == "emolens":
                    parser.parse_args(words[1:])  # exits (failing the test) on an unknown option
    wrong = []
    for name, rest in _EMOLENS.findall(text):  # inline spans are often partial: only their options are checked
        if name not in commands:
            wrong.append(f"`emolens {name}`: no such command")
            continue
        known = _options(commands[name])
        flags = re.findall(_FLAG, rest)
        wrong += [f"`emolens {name} {flag}`" for flag in flags if flag not in known]
    assert not wrong, f"{document.name}: unknown to the CLI: {wrong}"


@cache
def _help(script: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / script), "--help"], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, f"{script} --help failed: {done.stderr[-500:]}"
    return done.stdout


def test_benchmark_and_script_commands_take_the_options_shown() -> None:
    wrong = []
    for document in DOCUMENTS:
        text = _COMMENT.sub("", document.read_text(encoding="utf-8"))
        for script, rest in _BENCH.findall(text):
            if not (REPO / script).is_file():
                continue  # test_named_files_exist says so
            flags = re.findall(_FLAG, rest)
            if flags:
                wrong += [f"{document.name}: {script} {flag}" for flag in flags if flag not in _help(script)]
    assert not wrong, "options the scripts do not have:\n" + "\n".join(wrong)
