"""One small file that carries FER2013 (and FER+ votes) to a machine without `../shared`.

The device machine takes at most 64 MiB of working tree, the repository included; fer2013.csv.xz alone is 75 MB.
The pack keeps what training and selection need, `Training` and `PublicTest`: PrivateTest never travels, so no
choice made there can look at it. Each face is stored as a lossless WebP (OpenCV, the runtime's own
dependency), about 30% smaller than xz over the raw pixels; packing decodes every face again and checks that it
is bit-identical before writing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emolens.data.cache import file_digest
from emolens.data.dataset import SPLITS, FaceDataset
from emolens.data.fer2013 import read_fer2013_csv
from emolens.data.ferplus import read_ferplus_votes
from emolens.errors import DataFormatError

PACK_FORMAT = 1
#: The splits a pack carries; PrivateTest stays behind on purpose (see the module docstring).
PACKED_SPLITS: tuple[str, ...] = ("Training", "PublicTest")
_WEBP_LOSSLESS = [cv2.IMWRITE_WEBP_QUALITY, 101]  # quality above 100 selects WebP's lossless mode


@dataclass(frozen=True)
class PackReport:
    """What `pack_fer` wrote: the file, its face rows, its size, and whether FER+ votes are in it."""

    path: Path
    rows: int
    size_bytes: int
    with_votes: bool


@dataclass(frozen=True)
class Pack:
    """A loaded pack: the faces as a FaceDataset, and FER+ votes (N, 7) float32 aligned with its rows, or None."""

    dataset: FaceDataset
    votes: np.ndarray | None


def pack_fer(fer_csv: str | Path, ferplus_csv: str | Path | None, out: str | Path) -> PackReport:
    """Write the Training and PublicTest rows of `fer_csv` (and their FER+ votes) to `out` (.npz).

    Args:
        fer_csv: the FER2013 csv.
        ferplus_csv: FER+ votes aligned with its rows, or None.
        out: the pack file to write (replaced atomically).

    Returns:
        What was written.

    Raises:
        DataFormatError: a malformed csv, votes not aligned with the faces, or a face WebP does not give back.
    """
    fer_csv, out = Path(fer_csv), Path(out)
    dataset = read_fer2013_csv(fer_csv)
    votes = None
    if ferplus_csv is not None:
        votes = read_ferplus_votes(ferplus_csv)
        if len(votes) != len(dataset):
            raise DataFormatError(str(ferplus_csv), None, f"{len(votes)} rows, but {fer_csv} has {len(dataset)}")
    keep = np.isin(dataset.usage, [SPLITS.index(s) for s in PACKED_SPLITS])
    images = dataset.images[keep]
    blobs = [_encode(image) for image in images]
    for i, (blob, image) in enumerate(zip(blobs, images, strict=True)):
        if not np.array_equal(_decode(blob), image):
            raise DataFormatError(str(fer_csv), None, f"face {i} does not survive lossless WebP; not packed")
    offsets = np.cumsum([0, *(len(b) for b in blobs)]).astype(np.int64)
    arrays = {
        "format": np.array(PACK_FORMAT),
        "source_sha256": np.array(file_digest(fer_csv)),
        "webp": np.frombuffer(b"".join(blobs), dtype=np.uint8),
        "offsets": offsets,
        "labels": dataset.labels[keep].astype(np.int8),
        "usage": dataset.usage[keep].astype(np.int8),
    }
    if votes is not None:
        arrays["votes"] = votes[keep].astype(np.uint8)  # counts of 10 annotators
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)  # stored: the faces are already compressed; no pickles
    os.replace(tmp, out)
    return PackReport(out, int(keep.sum()), out.stat().st_size, votes is not None)


def load_pack(path: str | Path) -> Pack:
    """Read a pack written by `pack_fer`.

    Args:
        path: the pack file.

    Returns:
        The faces and, where packed, their votes.

    Raises:
        DataFormatError: not a pack, or one of another format version.
    """
    path = Path(path)
    try:
        with np.load(path) as z:
            if int(z["format"]) != PACK_FORMAT:
                raise DataFormatError(str(path), None, f"pack format {int(z['format'])}, expected {PACK_FORMAT}")
            blob, offsets = z["webp"], z["offsets"]
            images = np.stack([_decode(blob[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1)])
            dataset = FaceDataset(
                images=images, labels=z["labels"].astype(np.int64), usage=z["usage"], source=str(path)
            )
            votes = z["votes"].astype(np.float32) if "votes" in z.files else None
    except (OSError, KeyError, ValueError) as err:
        if isinstance(err, DataFormatError):
            raise
        raise DataFormatError(str(path), None, f"not a readable emolens pack ({err.__class__.__name__})") from None
    return Pack(dataset, votes)


def _encode(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".webp", image, _WEBP_LOSSLESS)
    if not ok:
        raise DataFormatError("<pack>", None, "OpenCV could not encode a face as WebP")
    return buf.tobytes()


def _decode(blob: np.ndarray | bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(blob, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataFormatError("<pack>", None, "a packed face is not a readable WebP")
    return image
