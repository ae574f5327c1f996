"""FER+ votes: read in FER2013's label order, turned into soft or majority targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emolens.data import read_ferplus_votes, votes_to_labels
from emolens.errors import DataFormatError

HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.fixture
def votes_csv(tmp_path: Path) -> Path:
    return _write(tmp_path / "fer2013new.csv", [
        "Training,fer0000000.png,4,0,0,0,6,0,0,0,0,0",   # anger 6, neutral 4
        "Training,fer0000001.png,0,10,0,0,0,0,0,0,0,0",  # happiness 10
        "PublicTest,fer0000002.png,0,0,3,0,0,0,3,2,2,0",  # surprise 3, fear 3 (tie), contempt/unknown
        "Training,,0,0,0,0,0,0,0,0,0,10",                # not a face
    ])  # fmt: skip


def test_votes_come_in_fer2013_label_order(votes_csv: Path) -> None:
    votes = read_ferplus_votes(votes_csv)
    assert votes.shape == (4, 7) and votes.dtype == np.float32
    # angry, disgust, fear, happy, sad, surprise, neutral
    assert votes[0].tolist() == [6, 0, 0, 0, 0, 0, 4]
    assert votes[1].tolist() == [0, 0, 0, 10, 0, 0, 0]
    assert votes[2].tolist() == [0, 0, 3, 0, 0, 3, 0]


def test_soft_labels_are_vote_distributions(votes_csv: Path) -> None:
    soft, usable = votes_to_labels(read_ferplus_votes(votes_csv), "soft")
    assert usable.tolist() == [True, True, True, False]
    np.testing.assert_allclose(soft[0], [0.6, 0, 0, 0, 0, 0, 0.4])
    np.testing.assert_allclose(soft[2], [0, 0, 0.5, 0, 0, 0.5, 0])  # contempt/unknown do not count
    np.testing.assert_allclose(soft[:3].sum(axis=1), 1.0)
    assert soft[3].sum() == 0


def test_majority_labels_are_one_hot(votes_csv: Path) -> None:
    hard, usable = votes_to_labels(read_ferplus_votes(votes_csv), "majority")
    assert hard[:3].argmax(axis=1).tolist() == [0, 3, 2]  # a tie goes to the lower FER2013 index
    assert (hard[:3].max(axis=1) == 1).all() and (hard[:3].sum(axis=1) == 1).all()
    assert hard[3].sum() == 0 and not usable[3]


def test_unknown_mode_is_rejected(votes_csv: Path) -> None:
    with pytest.raises(ValueError, match="soft or majority"):
        votes_to_labels(read_ferplus_votes(votes_csv), "average")


def test_malformed_vote_rows_name_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", ["Training,a.png,1,0,0,0,0,0,0,0,0,0", "Training,b.png,1,x,0,0,0,0,0,0,0,0"])
    with pytest.raises(DataFormatError, match=r"bad\.csv:3: a vote count is not a number"):
        read_ferplus_votes(path)
    path = _write(tmp_path / "short.csv", ["Training,a.png,1,0,0"])
    with pytest.raises(DataFormatError, match=r"short\.csv:2: expected 12 columns, found 5"):
        read_ferplus_votes(path)


def test_header_without_vote_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataFormatError, match=r"wrong\.csv:1: header must contain"):
        read_ferplus_votes(path)


def test_real_ferplus_file_aligns_with_fer2013() -> None:
    from support import shared_path

    votes = read_ferplus_votes(shared_path("data", "ferplus", "fer2013new.csv"))
    assert votes.shape == (35887, 7)
    assert votes.min() >= 0 and votes.sum(axis=1).max() <= 10
    _, usable = votes_to_labels(votes, "majority")
    assert 35000 < usable.sum() < 35887  # the not-a-face rows (and the all-contempt/unknown ones) drop out
