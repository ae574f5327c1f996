"""The frame rate shown is frames over elapsed time, not an average of per-frame rates."""

from __future__ import annotations

import pytest

from emolens.framerate import FrameRate


def test_uneven_intervals_give_the_rate_the_viewer_sees() -> None:
    # A window updating 24 times a second whose frames arrive in pairs (1 ms, then 82.3 ms): the
    # per-frame rates average about 506 frames/s, but 24 frames are shown each second.
    rate, now_s, fps = FrameRate(), 0.0, None
    for i in range(200):
        now_s += 0.001 if i % 2 else 2 / 24 - 0.001
        fps = rate.tick(now_s)
    assert fps == pytest.approx(24.0, rel=0.05)


def test_rate_follows_a_change_within_its_window() -> None:
    rate, now_s = FrameRate(window_frames=10), 0.0
    for _ in range(30):
        now_s += 1 / 30
        rate.tick(now_s)
    assert rate.fps == pytest.approx(30.0)
    for _ in range(10):
        now_s += 1 / 10
        rate.tick(now_s)
    assert rate.fps == pytest.approx(10.0)


def test_no_rate_before_two_frames() -> None:
    rate = FrameRate()
    assert rate.fps is None and rate.tick(5.0) is None and rate.tick(5.0) is None
    assert rate.tick(5.5) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="window_frames"):
        FrameRate(1)
