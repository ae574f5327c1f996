from __future__ import annotations

import pytest

from emolens.runtime.tracker import IouTracker
from emolens.types import Box


def shifted(box: Box, dx: int, dy: int = 0) -> Box:
    return Box(box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy)


A = Box(0, 0, 100, 100)
B = Box(300, 0, 400, 100)


def immediate(**kwargs: object) -> IouTracker:
    """A tracker that reports every box at once (min_hits=1): plain IoU tracking."""
    return IouTracker(**({"iou_threshold": 0.3, "max_missed": 5, "min_hits": 1} | kwargs))  # type: ignore[arg-type]


def test_ids_start_at_one_and_follow_moving_boxes_in_any_order():
    tracker = immediate()
    assert tracker.update([A, B]) == [1, 2]
    assert tracker.update([shifted(B, 10), shifted(A, 10)]) == [2, 1]
    assert tracker.update([shifted(A, 20), shifted(B, 20)]) == [1, 2]


def test_a_new_face_gets_a_new_id_and_ids_are_never_reused():
    tracker = immediate(max_missed=0)
    assert tracker.update([A]) == [1]
    assert tracker.update([B]) == [2]  # no overlap with A and far away: a new face
    assert tracker.dropped_ids == (1,)
    assert tracker.update([A]) == [3]


def test_track_survives_max_missed_frames_then_ends():
    tracker = immediate(max_missed=2)
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
    tracker = immediate()
    tracker.update([A])
    ids = tracker.update([shifted(A, 5), shifted(A, 30)])
    assert ids == [1, 2]  # the better overlap keeps the id; the other box is a new face


def test_low_overlap_far_away_is_not_a_match():
    tracker = immediate(iou_threshold=0.5)
    tracker.update([A])
    assert tracker.update([shifted(A, 160)]) == [2]  # no overlap, 1.6 widths away


def test_reset_forgets_tracks_but_keeps_counting():
    tracker = immediate()
    tracker.update([A, B])
    tracker.reset()
    assert tracker.dropped_ids == (1, 2)
    assert tracker.update([A]) == [3]


@pytest.mark.parametrize(
    "kwargs", [{"iou_threshold": 0.0}, {"iou_threshold": 1.5}, {"max_missed": -1}, {"min_hits": 0}]
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        immediate(**kwargs)


# --- confirmation (min_hits) --------------------------------------------------------------------------------


@pytest.mark.parametrize("false_frames", [1, 2, 3])
def test_a_false_box_of_up_to_three_frames_never_gets_an_id(false_frames):
    tracker = IouTracker(iou_threshold=0.3, max_missed=30, min_hits=4)
    face = A
    wall = Box(400, 200, 450, 250)
    reported: set[int] = set()
    for frame in range(20):
        boxes = [shifted(face, frame)] + ([wall] if 5 <= frame < 5 + false_frames else [])
        ids = tracker.update(boxes)
        reported.update(i for i in ids if i is not None)
        if 5 <= frame < 5 + false_frames:
            assert ids[1] is None  # the wall box is never a face
    assert reported == {1}


def test_a_face_is_confirmed_on_its_min_hits_th_frame():
    tracker = IouTracker(iou_threshold=0.3, max_missed=30, min_hits=4)
    ids = [tracker.update([shifted(A, 2 * frame)])[0] for frame in range(6)]
    assert ids == [None, None, None, 1, 1, 1]


def test_a_tentative_track_that_misses_a_frame_starts_over():
    tracker = IouTracker(iou_threshold=0.3, max_missed=30, min_hits=3)
    assert tracker.update([A]) == [None]
    assert tracker.update([A]) == [None]
    assert tracker.update([]) == []
    assert tracker.update([A]) == [None]  # counting again from one
    assert tracker.update([A]) == [None]
    assert tracker.update([A]) == [1]


def test_followed_boxes_alone_do_not_confirm_a_track():
    """A single detection carried along between detector runs (detect every 5th frame) is no evidence."""
    tracker = IouTracker(iou_threshold=0.3, max_missed=30, min_hits=4)
    ids = [tracker.update([A], detected=True)[0]]
    ids += [tracker.update([A], detected=False)[0] for _ in range(4)]
    assert ids == [None] * 5
    assert tracker.update([A], detected=True) == [1]  # the second detection confirms it


def test_detecting_every_third_frame_a_face_is_confirmed_by_the_second_detection():
    tracker = IouTracker(iou_threshold=0.3, max_missed=30, min_hits=4)
    ids = [tracker.update([A], detected=frame % 3 == 0)[0] for frame in range(5)]
    assert ids == [None, None, None, 1, 1]


# --- re-identification after a gap ----------------------------------------------------------------------------


def test_a_face_that_leaves_and_returns_nearby_within_the_gap_keeps_its_id():
    tracker = IouTracker(iou_threshold=0.3, max_missed=10, min_hits=2)
    for frame in range(4):
        tracker.update([shifted(A, 200 + frame)])
    assert tracker.active_ids == (1,)
    for _ in range(8):  # hidden for 8 frames, moving on meanwhile
        assert tracker.update([]) == []
    back = shifted(A, 270, 30)  # no overlap with where it was last seen (IoU 0), 0.76 widths away
    assert back.iou(shifted(A, 203)) < 0.3
    assert tracker.update([back]) == [1]  # reported at once, with its old id
    assert tracker.dropped_ids == ()


def test_after_a_longer_gap_the_face_is_new():
    tracker = IouTracker(iou_threshold=0.3, max_missed=10, min_hits=2)
    for _ in range(3):
        tracker.update([A])
    for _ in range(11):
        tracker.update([])
    assert tracker.dropped_ids == (1,)
    assert tracker.update([A]) == [None]
    assert tracker.update([A]) == [2]


def test_re_identification_needs_a_similar_size_and_the_nearest_lost_face_wins():
    tracker = IouTracker(iou_threshold=0.3, max_missed=10, min_hits=1)
    left, right = Box(0, 0, 100, 100), Box(300, 0, 400, 100)
    assert tracker.update([left, right]) == [1, 2]
    tracker.update([])
    big = Box(120, 0, 320, 200)  # four times the area near both: someone else
    near_right = shifted(right, -90)  # 0.9 widths from right, 2.1 from left
    assert tracker.update([big, near_right]) == [3, 2]


def test_two_faces_crossing_paths_keep_their_ids():
    tracker = IouTracker(iou_threshold=0.3, max_missed=10, min_hits=1)
    one, two = Box(0, 0, 80, 80), Box(400, 0, 480, 80)
    for step in range(12):
        ids = tracker.update([shifted(one, 20 * step), shifted(two, -20 * step)])
        if step < 9:  # 4 steps before they meet
            assert ids == [1, 2]
