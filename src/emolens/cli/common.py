"""Helpers shared by the subcommands: where the cache lives, how data sets are loaded."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from emolens.data import FaceDataset, load_dataset, read_ferplus_votes, votes_to_labels

log = logging.getLogger("emolens")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "emolens"


def load_data(path: str, on_bad_row: str = "error", no_cache: bool = False) -> FaceDataset:
    dataset = load_dataset(path, on_bad_row=on_bad_row, cache_dir=None if no_cache else default_cache_dir())  # type: ignore[arg-type]
    if dataset.skipped_rows:
        log.warning(
            "%s: %d malformed rows skipped (first lines: %s)",
            path,
            len(dataset.skipped_rows),
            ", ".join(map(str, dataset.skipped_rows[:5])),
        )
    return dataset


def attach_ferplus(dataset: FaceDataset, votes_path: str, mode: str) -> FaceDataset:
    """Replace targets by FER+ votes (rows aligned with fer2013.csv); rows FER+ calls no face go."""
    import dataclasses

    votes = read_ferplus_votes(votes_path)
    if len(votes) != len(dataset):
        raise ValueError(f"{votes_path}: {len(votes)} rows, but the data set has {len(dataset)}; they must align")
    soft, usable = votes_to_labels(votes, mode)
    with_votes = dataclasses.replace(dataset, soft_labels=soft)
    log.info("FER+ %s labels: %d of %d rows usable", mode, int(usable.sum()), len(usable))
    return with_votes.subset(usable)
