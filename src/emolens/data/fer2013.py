"""Read FER2013 as users have it: `fer2013.csv` (plain, .gz or .xz) or the image-folder layout."""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

import cv2
import numpy as np

from emolens.data.dataset import SPLITS, FaceDataset
from emolens.errors import DataFormatError
from emolens.io.media import IMAGE_SUFFIXES
from emolens.preprocess import INPUT_SIZE_PX, to_gray_u8
from emolens.types import EMOTIONS

log = logging.getLogger(__name__)

OnBadRow = Literal["error", "skip"]
#: What `on_bad_row` does, as the commands' --on-bad-row help says it.
BAD_ROW_HELP = (
    "a malformed csv row or unreadable image file: stop, naming it (error), or leave it out and log it (skip)"
)
PIXELS = 48 * 48

#: Folder names as the popular image-folder copies spell them.
CLASS_ALIASES: dict[str, int] = {
    "angry": 0, "anger": 0,
    "disgust": 1, "disgusted": 1,
    "fear": 2, "fearful": 2,
    "happy": 3, "happiness": 3,
    "sad": 4, "sadness": 4,
    "surprise": 5, "surprised": 5,
    "neutral": 6,
}  # fmt: skip
SPLIT_ALIASES: dict[str, str] = {
    "train": "Training", "training": "Training",
    "val": "PublicTest", "valid": "PublicTest", "validation": "PublicTest", "publictest": "PublicTest",
    "test": "PrivateTest", "privatetest": "PrivateTest",
}  # fmt: skip


def open_text(path: Path) -> IO[str]:
    """Open a text file that may be compressed (.gz, .xz, .bz2), chosen by its suffix.

    Args:
        path: The file; any other suffix is read as plain text.

    Returns:
        A UTF-8 text stream with newline translation off (as the csv module wants); the caller closes it.

    Raises:
        OSError: If the file cannot be opened (FileNotFoundError when it is missing).
    """
    openers: dict[str, Callable[..., IO[str]]] = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}
    opener = openers.get(path.suffix.lower())
    # surrogateescape: a byte that is not UTF-8 survives as a lone surrogate, so the row holding it can be
    # named (file and line) instead of the whole read stopping inside the decoder.
    if opener is None:
        return open(path, encoding="utf-8", errors="surrogateescape", newline="")
    return opener(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")


def read_fer2013_csv(path: str | Path, on_bad_row: OnBadRow = "error") -> FaceDataset:
    """Parse fer2013.csv; every malformed row raises DataFormatError naming file and line,
    or with on_bad_row="skip" is left out, counted and logged.

    Blank lines are ignored; the columns may come in any order.

    Args:
        path: fer2013.csv, plain or compressed (.gz, .xz, .bz2).
        on_bad_row: "error" raises at the first malformed row; "skip" leaves it out.

    Returns:
        The data set, every split, with the skipped line numbers in `skipped_rows`.

    Raises:
        DataFormatError: If the header lacks emotion, pixels or Usage, a row is malformed with
            on_bad_row="error", or no usable row remains.
        OSError: If the file cannot be opened (FileNotFoundError when it is missing).
    """
    path = Path(path)
    images: list[np.ndarray] = []
    labels: list[int] = []
    usage: list[int] = []
    skipped: list[int] = []
    with open_text(path) as f:
        first = f.readline()
        if bad := _not_utf8(first):
            raise DataFormatError(str(path), 1, bad)
        header = first.strip().lstrip("\ufeff").split(",")
        try:
            cols = {name: header.index(name) for name in ("emotion", "pixels", "Usage")}
        except ValueError:
            got = ",".join(header)
            raise DataFormatError(str(path), 1, f"header must name emotion,pixels,Usage; got {got}") from None
        for line_no, line in enumerate(f, start=2):
            if not line.strip():
                continue
            try:
                if _not_utf8(line):
                    raise ValueError(_not_utf8(line))
                image, label, split = _parse_row(line, cols, len(header))
            except ValueError as err:
                if on_bad_row == "error":
                    raise DataFormatError(str(path), line_no, str(err)) from None
                log.warning("%s:%d: skipped: %s", path, line_no, err)
                skipped.append(line_no)
                continue
            images.append(image)
            labels.append(label)
            usage.append(split)
    if skipped:
        log.warning("%s: skipped %d malformed rows", path, len(skipped))
    if not images:
        raise DataFormatError(str(path), None, "no usable rows")
    return FaceDataset(
        images=np.stack(images),
        labels=np.array(labels, dtype=np.int64),
        usage=np.array(usage, dtype=np.int8),
        source=str(path),
        skipped_rows=tuple(skipped),
    )


def _not_utf8(line: str) -> str | None:
    """A reason naming the first byte that was not UTF-8 (read with surrogateescape), or None."""
    if line.isascii():  # the fast path: fer2013 is plain ASCII
        return None
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"byte 0x{ord(line[err.start]) - 0xDC00:02x} at column {err.start + 1} is not UTF-8 text"
    return None


def _parse_row(line: str, cols: dict[str, int], n_cols: int) -> tuple[np.ndarray, int, int]:
    fields = line.rstrip("\r\n").split(",")
    if len(fields) != n_cols:
        raise ValueError(f"expected {n_cols} columns, found {len(fields)}")
    raw_label = fields[cols["emotion"]].strip()
    if not raw_label.lstrip("-").isdigit() or not 0 <= int(raw_label) < len(EMOTIONS):
        raise ValueError(f"label {raw_label!r} is not an integer in 0-{len(EMOTIONS) - 1}")
    split = fields[cols["Usage"]].strip()
    if split not in SPLITS:
        raise ValueError(f"unknown Usage {split!r}; expected one of {', '.join(SPLITS)}")
    tokens = fields[cols["pixels"]].split()
    if len(tokens) != PIXELS:
        raise ValueError(f"expected {PIXELS} pixels, found {len(tokens)}")
    try:
        values = np.array(tokens, dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.isdigit())
        raise ValueError(f"pixel {bad!r} is not an integer") from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError("pixel values must lie in 0-255")
    return values.astype(np.uint8).reshape(48, 48), int(raw_label), SPLITS.index(split)


def read_image_folders(root: str | Path, on_bad_row: OnBadRow = "error") -> FaceDataset:
    """Read `root/<split>/<class>/*.png|jpg` (split: train, val/validation, test; class names as in
    CLASS_ALIASES). Images are converted to 48x48 grayscale with the shared preprocessing resize.
    An unreadable image raises DataFormatError naming it, or with on_bad_row="skip" is left out,
    counted and logged.

    Args:
        root: The folder holding the split folders.
        on_bad_row: "error" raises at the first unreadable image; "skip" leaves it out.

    Returns:
        The data set, with the skipped image paths in `skipped_files`.

    Raises:
        DataFormatError: If no split folder exists, a class folder has an unknown name, an image is
            unreadable with on_bad_row="error", or no image is found.
    """
    root = Path(root)
    images: list[np.ndarray] = []
    labels: list[int] = []
    usage: list[int] = []
    skipped: list[str] = []
    for split_dir, class_dir, label in _class_dirs(root):
        split = SPLITS.index(SPLIT_ALIASES[split_dir.name.lower()])
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            data = np.fromfile(file, dtype=np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
            if image is None:
                if on_bad_row == "error":
                    raise DataFormatError(str(file), None, "unreadable image")
                log.warning("%s: skipped: unreadable image", file)
                skipped.append(str(file))
                continue
            gray = to_gray_u8(image)
            if gray.shape != (INPUT_SIZE_PX, INPUT_SIZE_PX):
                gray = cv2.resize(gray, (INPUT_SIZE_PX, INPUT_SIZE_PX), interpolation=cv2.INTER_AREA)
            images.append(gray)
            labels.append(label)
            usage.append(split)
    if not images:
        raise DataFormatError(str(root), None, "no images found in <split>/<class>/ folders")
    return FaceDataset(
        images=np.stack(images),
        labels=np.array(labels, dtype=np.int64),
        usage=np.array(usage, dtype=np.int8),
        source=str(root),
        skipped_files=tuple(skipped),
    )


def _class_dirs(root: Path) -> Iterator[tuple[Path, Path, int]]:
    split_dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower() in SPLIT_ALIASES]
    if not split_dirs:
        raise DataFormatError(str(root), None, "expected train/ and test/ folders (optionally val/)")
    for split_dir in split_dirs:
        for class_dir in sorted(d for d in split_dir.iterdir() if d.is_dir()):
            label = CLASS_ALIASES.get(class_dir.name.lower())
            if label is None:
                expected = ", ".join(EMOTIONS)
                reason = f"unknown class folder {class_dir.name!r}; expected one of {expected}"
                raise DataFormatError(str(class_dir), None, reason)
            yield split_dir, class_dir, label
