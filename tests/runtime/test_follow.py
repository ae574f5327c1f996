"""Box following on a synthetic moving face: a textured patch sliding and growing over a plain background."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from moving_face import FRAME_PX, moving_boxes, scene, texture

from emolens.runtime.follow import BoxFollower
from emolens.types import Box


def test_boxes_follow_a_sliding_face_where_reused_boxes_fall_behind():
    patch = texture(100)
    truth = moving_boxes(8, dx=9, dy=4)
    follower = BoxFollower()
    follower.start(scene(truth[0], patch), [truth[0]])
    for box in truth[1:]:
        (followed,) = follower.follow(scene(box, patch))
        assert followed.iou(box) > 0.9, (followed, box)
    assert truth[0].iou(truth[-1]) < 0.4  # reusing the first box would have lost the face


def test_boxes_grow_with_a_face_coming_closer():
    patch = texture(160, seed=1)
    truth = moving_boxes(8, dx=2, dy=0, grow_px=4)  # 100 px -> 156 px wide
    follower = BoxFollower()
    follower.start(scene(truth[0], patch), [truth[0]])
    for box in truth[1:]:
        (followed,) = follower.follow(scene(box, patch))
    assert followed.iou(truth[-1]) > 0.85
    assert followed.width == pytest.approx(truth[-1].width, rel=0.08)


def test_several_boxes_keep_their_order_and_a_featureless_box_stays_put():
    patch = texture(100, seed=2)
    blank = Box(450, 200, 550, 300)  # plain gradient: nothing to follow
    truth = moving_boxes(5, dx=6, dy=0)
    follower = BoxFollower()
    follower.start(scene(truth[0], patch), [blank, truth[0]])
    for box in truth[1:]:
        still, moving = follower.follow(scene(box, patch))
    assert still == blank
    assert moving.iou(truth[-1]) > 0.9


def test_a_box_leaving_the_frame_is_clipped_to_it():
    patch = texture(100, seed=3)
    truth = [Box(560 + 20 * i, 100, 660 + 20 * i, 200) for i in range(4)]
    frames = []
    for box in truth:  # the patch is cut by the right edge
        visible = box.clip(FRAME_PX[1], FRAME_PX[0])
        frame = scene(Box(0, 0, 1, 1), patch)
        frame[visible.y1 : visible.y2, visible.x1 : visible.x2] = cv2.cvtColor(
            cv2.resize(patch, (box.width, box.height))[:, : visible.width], cv2.COLOR_GRAY2BGR
        )
        frames.append(frame)
    follower = BoxFollower()
    follower.start(frames[0], [truth[0].clip(FRAME_PX[1], FRAME_PX[0])])
    for frame in frames[1:]:
        (followed,) = follower.follow(frame)
        assert 0 <= followed.x1 <= followed.x2 <= FRAME_PX[1]
    assert followed.x1 > truth[0].x1  # it moved right with the face


def test_a_box_whose_face_turns_black_is_given_up_until_the_next_start():
    patch = texture(100, seed=4)
    truth = moving_boxes(4, dx=4, dy=0)
    black = np.zeros_like(scene(truth[0], patch))
    follower = BoxFollower()
    follower.start(scene(truth[0], patch), [truth[0]])
    (followed,) = follower.follow(scene(truth[1], patch))
    assert followed is not None and followed.iou(truth[1]) > 0.9
    assert follower.contrast_kept(black) == [False]  # a detector frame that went black: the face is not there
    assert follower.contrast_kept(scene(truth[1], patch)) == [True]  # asking moves nothing and gives nothing up
    assert follower.follow(black) == [None]
    assert follower.follow(scene(truth[2], patch)) == [None]  # given up until the detector finds the face again
    assert follower.contrast_kept(scene(truth[2], patch)) == [False]
    follower.start(scene(truth[2], patch), [truth[2]])
    (followed,) = follower.follow(scene(truth[3], patch))
    assert followed is not None and followed.iou(truth[3]) > 0.9


def test_a_dimmed_face_is_still_followed():
    # Light fading to 40% of the face's contrast between detector runs is not a face gone (CONTRAST_KEPT is 0.25).
    patch = texture(100, seed=5)
    truth = moving_boxes(3, dx=4, dy=0)
    follower = BoxFollower()
    follower.start(scene(truth[0], patch), [truth[0]])
    for box in truth[1:]:
        (followed,) = follower.follow((scene(box, patch) * 0.4).astype(np.uint8))
        assert followed is not None


def test_follow_needs_a_start_and_an_unchanged_frame_size():
    follower = BoxFollower()
    with pytest.raises(RuntimeError):
        follower.follow(np.zeros((10, 10), np.uint8))
    follower.start(np.zeros((100, 100), np.uint8), [Box(10, 10, 50, 50)])
    assert follower.follow(np.zeros((100, 120), np.uint8)) == []  # a new size: nothing carries over
    with pytest.raises(ValueError):
        BoxFollower(max_side_px=8)
