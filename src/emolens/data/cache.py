"""Parsed data sets cached as .npz, keyed by the source file's content, so a second run starts fast."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from emolens.data.dataset import FaceDataset
from emolens.data.fer2013 import OnBadRow, read_fer2013_csv, read_image_folders

log = logging.getLogger(__name__)
CACHE_FORMAT = 1


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, read in 4 MiB chunks so a large csv never sits in memory twice.

    Args:
        path: The file to hash.

    Returns:
        The digest as 64 lowercase hex characters.

    Raises:
        OSError: If the file cannot be read (FileNotFoundError when it is missing).
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def load_dataset(path: str | Path, on_bad_row: OnBadRow = "error", cache_dir: Path | None = None) -> FaceDataset:
    """FER2013 from a csv file (plain/.gz/.xz) or an image-folder tree (`on_bad_row` applies to both);
    csv parses are cached in `cache_dir` (none when it is None) under the sha256 of the file's bytes.

    An unreadable cache file is logged and parsed again; image folders are never cached.

    Args:
        path: fer2013.csv (plain, .gz, .xz, .bz2) or the root of an image-folder tree.
        on_bad_row: "error" stops at a malformed row or unreadable image; "skip" leaves it out and counts it.
        cache_dir: The folder for cached csv parses (created when needed), or None for no cache.

    Returns:
        The data set, every split.

    Raises:
        FileNotFoundError: If `path` is neither a folder nor an existing file.
        DataFormatError: If a row or image is malformed with on_bad_row="error", or nothing usable is found.
    """
    path = Path(path)
    if path.is_dir():
        return read_image_folders(path, on_bad_row)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such data file or folder")
    if cache_dir is None:
        return read_fer2013_csv(path, on_bad_row)
    key = f"{file_digest(path)[:32]}-{on_bad_row}-v{CACHE_FORMAT}"
    cached = cache_dir / f"fer2013-{key}.npz"
    if cached.exists():
        try:
            with np.load(cached) as z:
                return FaceDataset(
                    images=z["images"],
                    labels=z["labels"],
                    usage=z["usage"],
                    source=str(path),
                    skipped_rows=tuple(int(r) for r in z["skipped_rows"]),
                )
        except (OSError, KeyError, ValueError) as err:
            log.warning("ignoring unreadable cache %s (%s)", cached, err)
    dataset = read_fer2013_csv(path, on_bad_row)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez(
            f,
            images=dataset.images,
            labels=dataset.labels,
            usage=dataset.usage,
            skipped_rows=np.array(dataset.skipped_rows, dtype=np.int64),
        )
    os.replace(tmp, cached)
    log.info("cached parsed data set at %s", cached)
    return dataset
