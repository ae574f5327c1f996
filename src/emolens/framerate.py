"""The frame rate a viewer sees: frames counted over the time they took, across a window of frames.

An average of per-frame rates (1 / interval) overstates the rate whenever intervals vary: a 2 ms gap
counts as 500 frames/s. Counting frames over elapsed time does not.
"""

from __future__ import annotations

from collections import deque

#: Frames the rate is measured over by default: about a second of video.
WINDOW_FRAMES = 24


class FrameRate:
    """`tick(now_s)` at each frame shown; `fps` is (frames in the window - 1) / seconds the window spans."""

    def __init__(self, window_frames: int = WINDOW_FRAMES) -> None:
        if window_frames < 2:
            raise ValueError(f"window_frames must be at least 2, got {window_frames}")
        self._times_s: deque[float] = deque(maxlen=window_frames)

    def tick(self, now_s: float) -> float | None:
        """Record a frame shown at `now_s`.

        Args:
            now_s: when the frame was shown, in seconds of a monotonic clock (time.monotonic()).

        Returns:
            The rate so far, as `fps` gives it: None until the window spans some time.
        """
        self._times_s.append(now_s)
        return self.fps

    @property
    def fps(self) -> float | None:
        """Frames per second over the window; None until two frames with time between them."""
        if len(self._times_s) < 2 or self._times_s[-1] <= self._times_s[0]:
            return None
        return (len(self._times_s) - 1) / (self._times_s[-1] - self._times_s[0])
