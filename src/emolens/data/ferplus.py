"""FER+ relabelling (Microsoft, MIT licence): 10 annotators' votes per FER2013 row, aligned by row."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emolens.data.fer2013 import open_text
from emolens.errors import DataFormatError

#: FER+ vote columns in FER2013's label order (contempt, unknown and NF have no FER2013 class).
VOTE_COLUMNS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


def read_ferplus_votes(path: str | Path) -> np.ndarray:
    """Votes as a float32 (N, 7) array in FER2013's label order, one row per fer2013.csv row.

    Args:
        path: fer2013new.csv, plain or compressed (.gz, .xz, .bz2).

    Returns:
        The vote counts of the seven FER2013 classes; contempt, unknown and NF are dropped.

    Raises:
        DataFormatError: If the header lacks a vote column, a row has the wrong number of columns,
            or a vote count is not a number.
        OSError: If the file cannot be opened (FileNotFoundError when it is missing).
    """
    path = Path(path)
    with open_text(path) as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or any(c not in header for c in VOTE_COLUMNS):
            raise DataFormatError(str(path), 1, f"header must contain {', '.join(VOTE_COLUMNS)}")
        idx = [header.index(c) for c in VOTE_COLUMNS]
        rows: list[list[float]] = []
        for line_no, fields in enumerate(reader, start=2):
            if len(fields) != len(header):
                raise DataFormatError(str(path), line_no, f"expected {len(header)} columns, found {len(fields)}")
            try:
                rows.append([float(fields[i]) for i in idx])
            except ValueError:
                raise DataFormatError(str(path), line_no, "a vote count is not a number") from None
    return np.array(rows, dtype=np.float32)


def votes_to_labels(votes: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(soft (N, 7) float32, usable (N,) bool) from votes.

    mode "soft": the vote distribution over the 7 classes; "majority": one-hot on the most voted
    class. Rows with no vote for any of the 7 classes are not usable.

    Args:
        votes: Vote counts, (N, 7), as `read_ferplus_votes` returns them.
        mode: "soft" or "majority".

    Returns:
        The targets (all zero on unusable rows) and the mask of usable rows.

    Raises:
        ValueError: If `mode` is neither "soft" nor "majority".
    """
    totals = votes.sum(axis=1, keepdims=True)
    usable = totals[:, 0] > 0
    if mode == "soft":
        soft = np.divide(votes, totals, out=np.zeros_like(votes), where=totals > 0)
    elif mode == "majority":
        soft = np.zeros_like(votes)
        soft[np.arange(len(votes)), votes.argmax(axis=1)] = 1.0
    else:
        raise ValueError(f"unknown FER+ label mode {mode!r}; choose soft or majority")
    soft[~usable] = 0.0
    return soft.astype(np.float32), usable
