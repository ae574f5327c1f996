"""Every code block in the README works as written: the Python runs, the JSON is what the CLI prints,
and every `emolens` command line parses with the current options."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emolens.cli import build_parser
from emolens.types import EMOTIONS
from support import REPO, shared_path

README = REPO / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


#: Blocks another test runs against what they need (a batch run's Parquet files: tests/batch/test_batch_readme.py).
_RUN_ELSEWHERE = re.compile(r"<!-- batch-read: begin -->.*?<!-- batch-read: end -->", re.DOTALL)


def blocks(language: str) -> list[str]:
    text = _RUN_ELSEWHERE.sub("", README.read_text(encoding="utf-8"))
    found = [body for lang, body in _FENCE.findall(text) if lang == language]
    assert found, f"the README has no {language} block"
    return found


def test_every_block_has_a_language_the_tests_know() -> None:
    languages = {lang for lang, _ in _FENCE.findall(README.read_text(encoding="utf-8"))}
    assert languages <= {"python", "json", "bash", "text"}, languages


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_blocks_run(index: int, tmp_path: Path) -> None:
    # The blocks read photo.jpg and clip.mp4 from the working directory, as a user's would.
    shutil.copy(shared_path("media", "single_face.jpg"), tmp_path / "photo.jpg")
    shutil.copy(shared_path("media", "single_face.mp4"), tmp_path / "clip.mp4")
    code = blocks("python")[index]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the block prints what it found"
    assert any(emotion in done.stdout for emotion in EMOTIONS)


def test_json_blocks_have_the_cli_keys() -> None:
    # The keys the CLI prints today, read from a real run, so the README follows when an output gains a field.
    done = subprocess.run(
        [sys.executable, "-m", "emolens", "analyze", "--json", str(shared_path("media", "single_face.jpg"))],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[0])
    printed_face = printed["faces"][0]
    for body in blocks("json"):
        obj = json.loads(body)
        assert set(obj) == set(printed) == {"path", "faces"}
        for face in obj["faces"]:
            assert set(face) == set(printed_face), "the README's face object and the CLI's differ"
            assert list(face["probs"]) == list(printed_face["probs"]) == list(EMOTIONS)
            assert face["emotion"] == max(face["probs"], key=face["probs"].get)


def test_command_lines_parse_and_name_real_files() -> None:
    parser = build_parser()
    checked = 0
    for body in blocks("bash"):
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            for command in filter(None, (part.strip() for part in line.split("&&"))):
                words = shlex.split(command)
                if Path(words[0]).name == "emolens":
                    parser.parse_args(words[1:])  # exits (failing the test) on an unknown option
                    checked += 1
                for word in words[1:]:
                    if re.fullmatch(r"(scripts|benchmarks)/[\w./-]+", word):
                        assert (REPO / word).is_file(), f"{word} does not exist"
                        checked += 1
    assert checked >= 3


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1"}


def test_the_test_script_never_touches_the_users_venv() -> None:
    # `bash scripts/test.sh` after `emolens serve` from .venv must leave that running installation alone.
    script = (REPO / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "make_venv .venv-test " in script and "make_venv .venv-test-system " in script
    assert '"$1/bin/python" -m pip install' in script, "each venv installs into itself"
    assert not re.search(r"(?<![\w-])\.venv/", script), "scripts/test.sh refers to the user's .venv"


def test_pictures_the_readme_shows_exist() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text(encoding="utf-8"))
    assert any("screenshots" in p for p in pictures)
    for picture in pictures:
        assert (REPO / picture).is_file(), f"{picture} is missing"
