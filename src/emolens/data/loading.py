"""Loading a data set as the commands and research scripts do: the cache, logged skips, FER+ labels."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from emolens.data.cache import load_dataset
from emolens.data.dataset import FaceDataset
from emolens.data.fer2013 import BAD_ROW_HELP, OnBadRow
from emolens.data.ferplus import read_ferplus_votes, votes_to_labels

log = logging.getLogger("emolens")


def default_cache_dir() -> Path:
    """Where parsed data sets are cached: $XDG_CACHE_HOME/emolens, else ~/.cache/emolens.

    Returns:
        The folder path; it is not created here.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "emolens"


@dataclass(frozen=True)
class ReadOptions:
    """How the commands that read FER2013 (`emolens train`, `emolens eval`) read it: each field is a flag of both
    (`emolens.cli.common.add_field_flags` reads the metadata)."""

    #: "error" stops at a malformed row or unreadable image; "skip" leaves it out and counts it.
    on_bad_row: OnBadRow = field(default="error", metadata={"choices": get_args(OnBadRow), "help": BAD_ROW_HELP})
    #: Parse the csv again instead of reading the cache.
    no_cache: bool = field(default=False, metadata={"help": "parse the csv again instead of the cache"})

    def __post_init__(self) -> None:
        if self.on_bad_row not in get_args(OnBadRow):
            raise ValueError(f"on_bad_row must be one of {', '.join(get_args(OnBadRow))}, got {self.on_bad_row!r}")


#: The labels `emolens train` can fit: FER2013's own, or FER+ votes as shares ("soft") or their majority.
LABEL_SOURCES = ("fer", "ferplus-soft", "ferplus-majority")


@dataclass(frozen=True)
class LabelOptions:
    """Which labels `emolens train` fits: each field is one of its flags."""

    labels: str = field(
        default="fer",
        metadata={
            "choices": LABEL_SOURCES,
            "help": "FER2013 labels, or FER+ votes (with --ferplus) as soft or majority labels",
        },
    )
    #: fer2013new.csv, the FER+ votes; needed for the ferplus-* labels.
    ferplus: str = field(default="", metadata={"path": True, "help": "fer2013new.csv, needed for --labels ferplus-*"})

    def __post_init__(self) -> None:
        if self.labels not in LABEL_SOURCES:
            raise ValueError(f"labels must be one of {', '.join(LABEL_SOURCES)}, got {self.labels!r}")
        if self.labels != "fer" and not self.ferplus:
            raise ValueError(f"labels {self.labels} needs --ferplus PATH/fer2013new.csv")


def load_data(path: str | Path, on_bad_row: OnBadRow = "error", no_cache: bool = False) -> FaceDataset:
    """A data set as the commands load it: cached in `default_cache_dir()`, skipped rows and files logged.

    Args:
        path: fer2013.csv (plain, .gz, .xz) or an image-folder tree.
        on_bad_row: "error" stops at a malformed row or unreadable image; "skip" leaves it out and counts it.
        no_cache: parse again instead of reading the cache.

    Returns:
        The data set, every split.

    Raises:
        DataFormatError: a malformed row or unreadable image, with on_bad_row="error", or nothing usable.
        FileNotFoundError: no such file or folder.
    """
    dataset = load_dataset(path, on_bad_row=on_bad_row, cache_dir=None if no_cache else default_cache_dir())
    if dataset.skipped_rows:
        log.warning(
            "%s: %d malformed rows skipped (first lines: %s)",
            path,
            len(dataset.skipped_rows),
            ", ".join(map(str, dataset.skipped_rows[:5])),
        )
    if dataset.skipped_files:
        log.warning(
            "%s: %d unreadable images skipped (first: %s)",
            path,
            len(dataset.skipped_files),
            ", ".join(dataset.skipped_files[:3]),
        )
    return dataset


def attach_ferplus(dataset: FaceDataset, votes_path: str | Path, mode: str) -> FaceDataset:
    """Replace targets by FER+ votes (rows aligned with fer2013.csv); rows FER+ calls no face go.

    Args:
        dataset: the whole FER2013 csv, every split, in file order.
        votes_path: fer2013new.csv.
        mode: "soft" (vote shares) or "majority".

    Returns:
        The usable rows, with `soft_labels` set.

    Raises:
        ValueError: the votes and the data set do not have the same number of rows, or `mode` is unknown.
        DataFormatError: the votes file is malformed.
    """
    votes = read_ferplus_votes(votes_path)
    if len(votes) != len(dataset):
        raise ValueError(f"{votes_path}: {len(votes)} rows, but the data set has {len(dataset)}; they must align")
    soft, usable = votes_to_labels(votes, mode)
    with_votes = dataclasses.replace(dataset, soft_labels=soft)
    log.info("FER+ %s labels: %d of %d rows usable", mode, int(usable.sum()), len(usable))
    return with_votes.subset(usable)
