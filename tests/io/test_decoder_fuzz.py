"""A short fuzz of the image and video decoders in CI (scripts/fuzz_decoders.py runs it for longer):
mutated real files and random bytes give an image within the limit or a MediaError, never a crash."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("hypothesis", reason="the fuzz needs hypothesis (dev extra)")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_decoders.py"


def fuzz_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_decoders", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_decoders_survive_a_short_fuzz(media: Path) -> None:
    images, videos = fuzz_script().run(seconds=20, media=media, batch=50)
    assert images >= 50 and videos >= 50
