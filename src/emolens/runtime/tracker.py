"""Keeps a face's identity from frame to frame by box overlap (greedy IoU matching)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emolens.types import Box


@dataclass
class _Track:
    box: Box
    missed: int = 0


class IouTracker:
    """Ids count from 1 and are never reused; a track survives `max_missed` frames without a matching box."""

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 5) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be at least 0, got {max_missed}")
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1
        #: Ids whose tracks ended in the last `update` (so that per-track state elsewhere can be dropped).
        self.dropped_ids: tuple[int, ...] = ()

    @property
    def active_ids(self) -> tuple[int, ...]:
        return tuple(self._tracks)

    def update(self, boxes: Sequence[Box]) -> list[int]:
        """The track id of each box, in the order given."""
        pairs = sorted(
            (
                (box.iou(track.box), box_index, track_id)
                for box_index, box in enumerate(boxes)
                for track_id, track in self._tracks.items()
            ),
            key=lambda pair: -pair[0],
        )
        ids: list[int | None] = [None] * len(boxes)
        matched_tracks: set[int] = set()
        for overlap, box_index, track_id in pairs:
            if overlap < self.iou_threshold:
                break
            if ids[box_index] is None and track_id not in matched_tracks:
                ids[box_index] = track_id
                matched_tracks.add(track_id)
        dropped = []
        for track_id, track in list(self._tracks.items()):
            if track_id not in matched_tracks:
                track.missed += 1
                if track.missed > self.max_missed:
                    del self._tracks[track_id]
                    dropped.append(track_id)
        self.dropped_ids = tuple(dropped)
        result: list[int] = []
        for box_index, box in enumerate(boxes):
            track_id = ids[box_index]
            if track_id is None:
                track_id = self._next_id
                self._next_id += 1
            self._tracks[track_id] = _Track(box)
            result.append(track_id)
        return result

    def reset(self) -> None:
        """Forget every track; ids keep counting up, so an old id never names a new face."""
        self.dropped_ids = tuple(self._tracks)
        self._tracks.clear()
