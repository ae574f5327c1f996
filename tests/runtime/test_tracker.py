from __future__ import annotations

import pytest

from emolens.runtime.tracker import IouTracker
from emolens.types import Box


def shifted(box: Box, dx: int) -> Box:
    return Box(box.x1 + dx, box.y1, box.x2 + dx, box.y2)


A = Box(0, 0, 100, 100)
B = Box(300, 0, 400, 100)


def test_ids_start_at_one_and_follow_moving_boxes_in_any_order():
    tracker = IouTracker()
    assert tracker.update([A, B]) == [1, 2]
    assert tracker.update([shifted(B, 10), shifted(A, 10)]) == [2, 1]
    assert tracker.update([shifted(A, 20), shifted(B, 20)]) == [1, 2]


def test_a_new_face_gets_a_new_id_and_ids_are_never_reused():
    tracker = IouTracker(max_missed=0)
    assert tracker.update([A]) == [1]
    assert tracker.update([B]) == [2]  # no overlap with A: a new face
    assert tracker.dropped_ids == (1,)
    assert tracker.update([A]) == [3]


def test_track_survives_max_missed_frames_then_ends():
    tracker = IouTracker(max_missed=2)
    tracker.update([A])
    assert tracker.update([]) == []
    assert tracker.update([]) == []
    assert tracker.active_ids == (1,)
    assert tracker.update([shifted(A, 5)]) == [1]  # back within the allowance: same id
    for _ in range(3):
        tracker.update([])
    assert tracker.dropped_ids == (1,)
    assert tracker.active_ids == ()
    assert tracker.update([A]) == [2]


def test_greedy_matching_gives_each_track_at_most_one_box():
    tracker = IouTracker()
    tracker.update([A])
    ids = tracker.update([shifted(A, 5), shifted(A, 30)])
    assert ids == [1, 2]  # the better overlap keeps the id; the other box is a new face


def test_low_overlap_is_not_a_match():
    tracker = IouTracker(iou_threshold=0.5)
    tracker.update([A])
    assert tracker.update([shifted(A, 60)]) == [2]  # IoU 40*100 / 16000 = 0.25


def test_reset_forgets_tracks_but_keeps_counting():
    tracker = IouTracker()
    tracker.update([A, B])
    tracker.reset()
    assert tracker.update([A]) == [3]


@pytest.mark.parametrize("kwargs", [{"iou_threshold": 0.0}, {"iou_threshold": 1.5}, {"max_missed": -1}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        IouTracker(**kwargs)
