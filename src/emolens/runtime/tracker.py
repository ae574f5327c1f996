"""Keeps a face's identity from frame to frame, and reports a face only once it has been seen on a few frames.

A detector's false box (a patch of wall, a knee) rarely lasts more than a frame or three, while a real face
stays; so, as SORT's `min_hits` does, a new track is *tentative* until it has had a box on `min_hits`
consecutive frames, two of them from the detector itself (a box the pipeline merely carried along between
detector runs is no evidence that a face is there). A tentative track that misses a frame is forgotten, and
only a confirmed track gets an id: ids count 1, 2, 3 over the real faces of a stream.

A confirmed track that loses its face (turned away, hidden, out of frame) waits `max_missed` frames. A box
that overlaps where it was, or lies within about one face width of it at a similar size, takes it back with
its old id and is reported at once.

The tracker only assigns ids; moving boxes between detector runs is runtime/follow.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from emolens.types import Box

#: Detector hits a track needs before it is confirmed (fewer when `min_hits` itself is smaller).
_MIN_DETECTOR_HITS = 2
#: A lost face may come back this many of its own widths away from where it was last seen...
_REID_MAX_SHIFT = 1.0
#: ...and at most this factor larger or smaller in area.
_REID_MAX_AREA_RATIO = 2.0


@dataclass
class _Track:
    box: Box
    seen: int = 1  # consecutive frames with a box (tentative tracks) or all frames with one (confirmed)
    hits: int = 0  # frames on which the box came from the detector
    missed: int = 0  # consecutive frames without a box
    track_id: int | None = None  # given on confirmation


class IouTracker:
    """Greedy IoU matching with confirmation (`min_hits`) and re-identification after short gaps.

    Args:
        iou_threshold: the least overlap, in (0, 1], for a box to continue a track.
        max_missed: frames a confirmed face may go unseen and still keep its id.
        min_hits: frames a new face must be seen on before it is reported (1 reports it at once).
    """

    def __init__(self, iou_threshold: float, max_missed: int, min_hits: int) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be at least 0, got {max_missed}")
        if min_hits < 1:
            raise ValueError(f"min_hits must be at least 1, got {min_hits}")
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.min_hits = min_hits
        self._tracks: list[_Track] = []
        self._next_id = 1
        #: Ids whose tracks ended in the last `update` (so that per-track state elsewhere can be dropped).
        self.dropped_ids: tuple[int, ...] = ()

    @property
    def active_ids(self) -> tuple[int, ...]:
        """Ids of the confirmed tracks still remembered, lost ones included."""
        return tuple(t.track_id for t in self._tracks if t.track_id is not None)

    def update(self, boxes: Sequence[Box], detected: bool = True) -> list[int | None]:
        """The track id of each box, in the order given; None for a box whose track is not confirmed yet.

        Args:
            boxes: this frame's face boxes.
            detected: whether the boxes come from the detector (True) or were carried over from earlier
                frames by following (False); only detector boxes count towards confirmation.

        Returns:
            One id or None per box.
        """
        owner: list[_Track | None] = [None] * len(boxes)
        self._match_by_overlap(boxes, owner)
        self._match_lost(boxes, owner)
        matched = {id(track) for track in owner if track is not None}
        dropped: list[int] = []
        kept: list[_Track] = []
        for track in self._tracks:
            if id(track) in matched:
                kept.append(track)
                continue
            track.missed += 1
            if track.track_id is None:
                continue  # a tentative track must be seen on consecutive frames
            if track.missed > self.max_missed:
                dropped.append(track.track_id)
            else:
                kept.append(track)
        self._tracks = kept
        self.dropped_ids = tuple(dropped)
        ids: list[int | None] = []
        for box, matched_track in zip(boxes, owner, strict=True):
            if matched_track is None:
                track = _Track(box, seen=0)
                self._tracks.append(track)
            else:
                track = matched_track
                track.box, track.missed = box, 0
            track.seen += 1
            track.hits += int(detected)
            if track.track_id is None and self._confirmed(track):
                track.track_id = self._next_id
                self._next_id += 1
            ids.append(track.track_id)
        return ids

    def _confirmed(self, track: _Track) -> bool:
        return track.seen >= self.min_hits and track.hits >= min(_MIN_DETECTOR_HITS, self.min_hits)

    def _match_by_overlap(self, boxes: Sequence[Box], owner: list[_Track | None]) -> None:
        pairs = sorted(
            (
                (box.iou(track.box), box_index, track_index)
                for box_index, box in enumerate(boxes)
                for track_index, track in enumerate(self._tracks)
            ),
            key=lambda pair: -pair[0],
        )
        taken: set[int] = set()
        for overlap, box_index, track_index in pairs:
            if overlap < self.iou_threshold:
                break
            if owner[box_index] is None and track_index not in taken:
                owner[box_index] = self._tracks[track_index]
                taken.add(track_index)

    def _match_lost(self, boxes: Sequence[Box], owner: list[_Track | None]) -> None:
        """Unmatched boxes near a confirmed track that has none this frame take it back (nearest first)."""
        free = [t for t in self._tracks if t.track_id is not None and all(t is not o for o in owner)]
        pairs = sorted(
            (shift, box_index, track_index)
            for box_index, box in enumerate(boxes)
            if owner[box_index] is None
            for track_index, track in enumerate(free)
            if (shift := _relative_shift(box, track.box)) is not None
        )
        taken: set[int] = set()
        for _, box_index, track_index in pairs:
            if owner[box_index] is None and track_index not in taken:
                owner[box_index] = free[track_index]
                taken.add(track_index)

    def reset(self) -> None:
        """Forget every track; ids keep counting up, so an old id never names a new face."""
        self.dropped_ids = self.active_ids
        self._tracks.clear()


def _relative_shift(box: Box, last: Box) -> float | None:
    """How far `box` lies from `last`, in widths of `last`; None if too far or too different in size."""
    if box.area <= 0 or last.area <= 0:
        return None
    ratio = box.area / last.area
    if not 1.0 / _REID_MAX_AREA_RATIO <= ratio <= _REID_MAX_AREA_RATIO:
        return None
    shift = math.hypot((box.x1 + box.x2 - last.x1 - last.x2) / 2.0, (box.y1 + box.y2 - last.y1 - last.y2) / 2.0)
    relative = shift / max(last.width, last.height)
    return relative if relative <= _REID_MAX_SHIFT else None
