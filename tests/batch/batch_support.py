"""Helpers of the batch tests (imported by name; conftest.py only registers fixtures): a small mixed archive
from ../shared/media (photos in nested folders, real clips, a clip under a photo's name), and faces/ in order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from support import REPO, SHARED

#: Copies of the 72-frame clip: enough inputs that a run can be caught (and killed) half-way.
CLIP_COPIES = 2
#: Ray workers import emolens from this checkout (their working folder is Ray's, so a relative path would not do).
#: RAY_AUTH_MODE=token: Ray 2.60's `ray start` turns token authentication on when ~/.ray/auth_token exists, but a
#: driver joining by address sends the token only when told to.
ENV = {"PYTHONPATH": str(REPO / "src"), "RAY_AUTH_MODE": "token"}


def build_archive(root: Path) -> Path:
    media = SHARED / "media"
    if not media.is_dir():
        pytest.skip(f"needs {media} (the shared data/media folder beside the repository)")
    (root / "photos" / "nested").mkdir(parents=True)
    (root / "clips").mkdir()
    shutil.copy(media / "single_face.jpg", root / "photos" / "single_face.jpg")
    shutil.copy(media / "multi_face.jpg", root / "photos" / "nested" / "multi_face.jpg")
    shutil.copy(media / "obama.jpg", root / "obama.jpg")
    shutil.copy(media / "single_face.mp4", root / "clips" / "single_face.mp4")
    for n in range(1, CLIP_COPIES):
        shutil.copy(media / "single_face.mp4", root / "clips" / f"copy_{n}.mp4")
    shutil.copy(media / "single_face.mp4", root / "clips" / "named_like_a_photo.jpg")  # routed by content
    return root


def faces_table(out_dir: Path) -> pd.DataFrame:
    """faces/ of a run, in one stable order."""
    table = pd.read_parquet(out_dir / "faces")
    return table.sort_values(["source", "frame", "x1", "y1"]).reset_index(drop=True)
