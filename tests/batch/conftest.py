"""Fixtures of the batch tests: the mixed archive, and one reference run of it through the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_support import ENV, build_archive

from support import run_emolens


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="session")
def local_run(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`emolens batch ARCHIVE --out DIR --workers 2`, as a user runs it; the reference for the other runs."""
    out = tmp_path_factory.mktemp("local") / "out"
    done = run_emolens("batch", archive, "--out", out, "--workers", "2", env=ENV)
    assert done.returncode == 0, done.stderr
    return out
