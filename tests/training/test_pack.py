"""The pack that carries FER2013 to the GPU machine: real faces come back bit for bit, with their FER+ votes, and
PrivateTest never travels."""

from __future__ import annotations

import itertools
import lzma
from pathlib import Path

import numpy as np
import pytest

from emolens.data import read_fer2013_csv, read_ferplus_votes
from emolens.errors import DataFormatError
from emolens_recipe.pack import load_pack, pack_fer
from support import fer_rows, shared_path, write_fer_csv


@pytest.fixture(scope="module")
def real_crop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first 180 faces of the real fer2013.csv and their FER+ votes; the last 60 of them relabelled as
    PublicTest and PrivateTest (30 each), since the real test splits lie at the end of the 75 MB file."""
    fer = shared_path("data", "fer2013", "fer2013.csv.xz")
    votes = shared_path("data", "ferplus", "fer2013new.csv")
    root = tmp_path_factory.mktemp("crop")
    with lzma.open(fer, "rt", encoding="utf-8") as f:
        header = next(f).rstrip("\n")
        lines = [line.rstrip("\n").rsplit(",", 1)[0] for line in itertools.islice(f, 180)]
    usage = ["Training"] * 120 + ["PublicTest"] * 30 + ["PrivateTest"] * 30
    vote_lines = votes.read_text().splitlines()[:181]
    (root / "votes.csv").write_text("\n".join(vote_lines) + "\n")
    rows = [f"{line},{split}" for line, split in zip(lines, usage, strict=True)]
    return write_fer_csv(root / "crop.csv", rows, header=header), root / "votes.csv"


def test_real_faces_and_votes_come_back_exactly_without_private_test(
    real_crop: tuple[Path, Path], tmp_path: Path
) -> None:
    csv, votes = real_crop
    report = pack_fer(csv, votes, tmp_path / "pack.npz")
    assert report.rows == 150 and report.with_votes
    source = read_fer2013_csv(csv)
    keep = source.usage < 2  # Training and PublicTest
    loaded = load_pack(report.path)
    assert np.array_equal(loaded.dataset.images, source.images[keep])
    assert np.array_equal(loaded.dataset.labels, source.labels[keep])
    assert np.array_equal(loaded.dataset.usage, source.usage[keep])
    assert loaded.votes is not None and np.array_equal(loaded.votes, read_ferplus_votes(votes)[keep])
    assert len(loaded.dataset.split("PrivateTest")) == 0
    # Lossless WebP beats the raw bytes of these faces (on all of FER2013: 51 MiB against 80 MB).
    assert report.size_bytes < 0.9 * source.images[keep].nbytes


def test_without_votes_and_misaligned_votes(tmp_path: Path) -> None:
    csv = write_fer_csv(tmp_path / "tiny.csv", fer_rows())
    report = pack_fer(csv, None, tmp_path / "pack.npz")
    assert load_pack(report.path).votes is None and report.rows == 49
    votes = tmp_path / "votes.csv"
    votes.write_text("anger,disgust,fear,happiness,sadness,surprise,neutral\n1,0,0,0,0,0,9\n")
    with pytest.raises(DataFormatError, match=r"votes\.csv: 1 rows, but .*tiny\.csv has 63"):
        pack_fer(csv, votes, tmp_path / "other.npz")


def test_a_file_that_is_not_a_pack_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a pack")
    with pytest.raises(DataFormatError, match=r"bad\.npz: not a readable emolens pack"):
        load_pack(bad)
