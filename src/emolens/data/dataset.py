"""The in-memory data set every reader produces, its splits, and the de-duplicated test copy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

#: FER2013's Usage values; the project's protocol: train, select, report.
SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
DEDUP_SUFFIX = "-dedup"


@dataclass(frozen=True)
class FaceDataset:
    """48x48 grayscale faces with labels.

    `images` (N, 48, 48) uint8; `labels` (N,) int64 in 0..6; `usage` (N,) index into SPLITS;
    `soft_labels` (N, 7) float32 rows summing to 1 when FER+ votes were attached, else None;
    `skipped_rows` (csv line numbers) and `skipped_files` (image paths) were left out as unreadable;
    `source` is the file or folder it was read from.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    soft_labels: np.ndarray | None = None
    source: str = ""
    skipped_rows: tuple[int, ...] = field(default_factory=tuple)
    skipped_files: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, mask: np.ndarray) -> FaceDataset:
        """The rows `mask` selects, with their soft labels; `source` and the skip lists are kept.

        Args:
            mask: A boolean (N,) mask or an index array into the rows.

        Returns:
            A new data set holding the selected rows.
        """
        return FaceDataset(
            images=self.images[mask],
            labels=self.labels[mask],
            usage=self.usage[mask],
            soft_labels=None if self.soft_labels is None else self.soft_labels[mask],
            source=self.source,
            skipped_rows=self.skipped_rows,
            skipped_files=self.skipped_files,
        )

    def split(self, name: str) -> FaceDataset:
        """`Training`, `PublicTest`, `PrivateTest`, or `PrivateTest-dedup` (any split + "-dedup"):
        the split without the rows whose pixels also occur in Training.

        Args:
            name: A split name from `available_splits()`.

        Returns:
            The rows of that split, as a new data set.

        Raises:
            ValueError: If `name` is not a known split.
        """
        base, dedup = (name[: -len(DEDUP_SUFFIX)], True) if name.endswith(DEDUP_SUFFIX) else (name, False)
        if base not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose from {', '.join(available_splits())}")
        mask = self.usage == SPLITS.index(base)
        if dedup:
            mask &= ~self._in_training()
        return self.subset(mask)

    def _in_training(self) -> np.ndarray:
        digests = np.array([_digest(img) for img in self.images])
        training = set(digests[self.usage == SPLITS.index("Training")].tolist())
        return np.array([d in training for d in digests.tolist()], dtype=bool)


def available_splits() -> list[str]:
    """Every name `FaceDataset.split` accepts.

    Returns:
        The SPLITS, then the de-duplicated copies of the two test splits.
    """
    return [*SPLITS, *(s + DEDUP_SUFFIX for s in SPLITS[1:])]


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()
