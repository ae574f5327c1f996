"""Per-track exponential moving average of emotion probabilities, to stop labels flickering in video."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class EmaSmoother:
    """`alpha` is the weight of the newest frame: 1 turns smoothing off, smaller values smooth more."""

    def __init__(self, alpha: float = 0.5) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"smoothing alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self._state: dict[int, np.ndarray] = {}

    def update(self, track_ids: Sequence[int], probs: np.ndarray) -> np.ndarray:
        """Smoothed (N, 7) probabilities, renormalised to sum to 1; a track seen for the first time starts fresh.

        Args:
            track_ids: the track of each row.
            probs: this frame's probabilities, one row per track.

        Returns:
            A new float32 array of probs' shape; each track's state is updated to its row.

        Raises:
            ValueError: If the number of ids and rows differ.
        """
        probs = np.asarray(probs, dtype=np.float32)
        if len(track_ids) != len(probs):
            raise ValueError(f"{len(track_ids)} track ids but {len(probs)} probability rows")
        out = np.empty_like(probs)
        for row, track_id in enumerate(track_ids):
            previous = self._state.get(track_id)
            value = probs[row] if previous is None else self.alpha * probs[row] + (1.0 - self.alpha) * previous
            total = float(value.sum())
            value = value / total if total > 0 else value
            self._state[track_id] = value
            out[row] = value
        return out

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop the state of tracks that ended, so memory stays bounded over a long video.

        Args:
            track_ids: the ended tracks; ids with no state are ignored.
        """
        for track_id in track_ids:
            self._state.pop(track_id, None)

    def reset(self) -> None:
        """Forget every track's state (a new stream)."""
        self._state.clear()

    @property
    def track_ids(self) -> tuple[int, ...]:
        """The tracks that have state now, in the order first seen."""
        return tuple(self._state)
