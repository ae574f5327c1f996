"""Moves face boxes with the face between detector runs, by sparse optical flow inside each box.

When the detector runs on every k-th frame only, reusing its boxes as they are crops a moving face
off-centre on the frames in between. Instead, on a detector frame `start` picks corners inside each box;
on each later frame `follow` tracks them with pyramidal Lucas-Kanade, keeps the points that track back to
where they came from (forward-backward check), and moves the box by their median shift and scales it by
the median change of their spread. A box whose points are lost stays where it was.

Following proves motion, not that a face is still there: the last frames of a phone clip can be black, and a
box whose points are lost would stay over the black. So each box also keeps the grey-level contrast (standard
deviation) of its inner region on the `start` frame, and once that region keeps less than `CONTRAST_KEPT` of it
the face is gone: `follow` gives None for that box until the next `start`, and `contrast_kept` says the same
for a frame not followed (a detector frame that missed the face). A real face keeps its contrast from one frame
to the next; a black, white or covered frame, a cut to a wall, does not.

The flow runs on a grayscale copy shrunk to at most `max_side_px` (a face spans tens of pixels there,
plenty for Lucas-Kanade), which keeps it well under a millisecond per frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from emolens.preprocess import to_gray_u8
from emolens.types import Box

_MAX_POINTS = 20  # corners per box: enough for a robust median, cheap to track
_MIN_POINTS = 4  # fewer surviving points than this: pick corners again in the current box
_FB_MAX_ERROR_PX = 1.0  # forward-backward disagreement (in the shrunk image) beyond which a point is dropped
_MAX_SCALE_STEP = 1.15  # a face does not grow or shrink by more than this between two frames
_STILL_SHIFT_PX = 0.3  # median motions below this (in the shrunk image) are noise: the box stays
_STILL_SCALE = 0.01  # likewise a change of spread under 1%
_INNER = 0.15  # corners are picked this fraction of the side inside each edge: the face, not the background
#: The share of its contrast on the detector frame below which a box's region no longer holds the face. No face
#: of the project's clips, panned or not, is given up following 1 to 5 frames between detector runs
#: (benchmarks/bench_follow.py, "given up"); a black frame keeps none of it.
CONTRAST_KEPT = 0.25
_LK_WIN_SIZE_PX = (11, 11)  # Lucas-Kanade search window per pyramid level
_LK_MAX_LEVEL = 2
_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03)


class BoxFollower:
    """Follows the boxes given to `start` through the frames given to `follow`; one instance per stream.

    Args:
        max_side_px: the flow runs on frames shrunk to at most this longest side.
    """

    def __init__(self, max_side_px: int = 320) -> None:
        if max_side_px < 16:
            raise ValueError(f"max_side_px must be at least 16, got {max_side_px}")
        self.max_side_px = max_side_px
        self._gray: np.ndarray | None = None
        self._scale = 1.0
        self._size_px = (0, 0)
        self._boxes = np.zeros((0, 4), np.float64)  # x1, y1, x2, y2 in the shrunk image, as floats (no drift)
        self._points: list[np.ndarray] = []  # per box: (N, 1, 2) float32 corners in the shrunk image
        self._contrast: list[float] = []  # per box: its inner region's grey-level deviation on the start frame
        self._gone: list[bool] = []  # per box: its region lost its contrast; no longer followed

    def start(self, image: np.ndarray, boxes: list[Box]) -> None:
        """Take `boxes` as the truth on this frame and pick points to follow in each.

        Args:
            image: the frame (BGR, BGRA or gray; uint8 or uint16).
            boxes: face boxes in `image`'s pixels, usually the detector's.
        """
        self._gray = self._shrink(image)
        self._boxes = np.array([b.xyxy() for b in boxes], np.float64).reshape(-1, 4) * self._scale
        self._points = [self._corners(self._gray, row) for row in self._boxes]
        self._contrast = [_contrast(self._gray, row) or 0.0 for row in self._boxes]
        self._gone = [False] * len(self._boxes)

    def follow(self, image: np.ndarray) -> list[Box | None]:
        """The boxes of the last `start` moved onto `image`, the next frame of the same stream.

        Args:
            image: the frame after the one last given to `start` or `follow`.

        Returns:
            The boxes in the order `start` was given them, clipped to the frame, and None in place of each box
            whose region lost its contrast (the face is gone) on this frame or an earlier one; an empty list if
            the frame size changed.

        Raises:
            RuntimeError: `start` was never called.
        """
        if self._gray is None:
            raise RuntimeError("BoxFollower.follow called before start")
        gray = self._shrink(image)
        if gray.shape != self._gray.shape:  # a stream changed size: nothing to follow across that
            self.start(image, [])
            return []
        for index, points in enumerate(self._points):
            if self._gone[index]:
                continue
            if len(points) < _MIN_POINTS:
                points = self._corners(self._gray, self._boxes[index])
            moved, kept = self._track(self._gray, gray, points)
            if len(kept) >= _MIN_POINTS:
                self._boxes[index] = _move_box(self._boxes[index], points[kept], moved[kept])
                self._points[index] = moved[kept]
            else:
                self._points[index] = np.zeros((0, 1, 2), np.float32)
            self._gone[index] = not self._holds_contrast(gray, index)
        self._gray = gray
        return [None if gone else box for box, gone in zip(self._boxes_px(), self._gone, strict=True)]

    def contrast_kept(self, image: np.ndarray) -> list[bool]:
        """Whether each box, where it was last followed to, still holds its face on `image`, by the same test
        `follow` applies; nothing is moved (for a detector frame that missed a face the follower was following).

        Args:
            image: a frame of the same stream, later than the last one given to `start` or `follow`.

        Returns:
            One flag per box of the last `start`, in its order: False for a box already gone, or whose region on
            `image` lost its contrast; all False if the frame size changed.

        Raises:
            RuntimeError: `start` was never called.
        """
        if self._gray is None:
            raise RuntimeError("BoxFollower.contrast_kept called before start")
        gray, _ = _shrunk_gray(image, self.max_side_px)  # not _shrink: asking changes nothing
        if gray.shape != self._gray.shape:
            return [False] * len(self._boxes)
        return [not gone and self._holds_contrast(gray, index) for index, gone in enumerate(self._gone)]

    def _holds_contrast(self, gray: np.ndarray, index: int) -> bool:
        # No evidence either way keeps the box, as before this test: a region flat from the start (no reference),
        # or a box squeezed against the frame's edge (no region left to look at; the pipeline shows none).
        now = _contrast(gray, self._boxes[index])
        return now is None or now >= CONTRAST_KEPT * self._contrast[index]

    def _shrink(self, image: np.ndarray) -> np.ndarray:
        """`image` as the gray copy the flow runs on; remembers its size and scale for the boxes of this frame."""
        gray, self._scale = _shrunk_gray(image, self.max_side_px)
        self._size_px = (image.shape[1], image.shape[0])
        return gray

    def _boxes_px(self) -> list[Box]:
        width_px, height_px = self._size_px
        return [Box(*(round(v / self._scale) for v in row)).clip(width_px, height_px) for row in self._boxes]

    @staticmethod
    def _corners(gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        inner = _inner(gray, box)
        if inner is None:
            return np.zeros((0, 1, 2), np.float32)
        left, top, right, bottom = inner
        min_distance = max(1.0, min(right - left, bottom - top) / 10.0)
        found = cv2.goodFeaturesToTrack(gray[top:bottom, left:right], _MAX_POINTS, 0.01, min_distance)
        if found is None:
            return np.zeros((0, 1, 2), np.float32)
        return (found.reshape(-1, 1, 2) + np.array([left, top], np.float32)).astype(np.float32)

    @staticmethod
    def _track(before: np.ndarray, after: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points moved onto `after`, and the indices of those that track back to where they started."""
        if len(points) == 0:
            return points, np.zeros(0, np.intp)
        moved, status = _lucas_kanade(before, after, points)
        back, status_back = _lucas_kanade(after, before, moved)
        error = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
        good = (status.ravel() == 1) & (status_back.ravel() == 1) & (error < _FB_MAX_ERROR_PX)
        return moved, np.flatnonzero(good)


def _shrunk_gray(image: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    """`image` in gray, shrunk to at most `max_side_px` a side, and the scale it was shrunk by (at most 1)."""
    gray = to_gray_u8(image)
    height_px, width_px = gray.shape
    scale = min(1.0, max_side_px / max(height_px, width_px))
    if scale < 1.0:
        size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, scale


def _inner(gray: np.ndarray, box: np.ndarray) -> tuple[int, int, int, int] | None:
    """The part of `box` `_INNER` inside each edge, clipped to `gray`: left, top, right, bottom; None when under
    4 pixels a side (the face, not the background around it)."""
    x1, y1, x2, y2 = box
    inset_x, inset_y = _INNER * (x2 - x1), _INNER * (y2 - y1)
    height_px, width_px = gray.shape
    left, top = max(0, int(x1 + inset_x)), max(0, int(y1 + inset_y))
    right, bottom = min(width_px, int(x2 - inset_x)), min(height_px, int(y2 - inset_y))
    if right - left < 4 or bottom - top < 4:
        return None
    return left, top, right, bottom


def _contrast(gray: np.ndarray, box: np.ndarray) -> float | None:
    """The standard deviation of the grey levels in `box`'s inner region; None when there is none to speak of."""
    inner = _inner(gray, box)
    if inner is None:
        return None
    left, top, right, bottom = inner
    _, deviation = cv2.meanStdDev(gray[top:bottom, left:right])
    return float(deviation[0, 0])


def _move_box(box: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """`box` shifted by the points' median motion and scaled by the median change of their spread about
    their median point (a robust, linear-time stand-in for the change of all pairwise distances)."""
    p, q = before.reshape(-1, 2).astype(np.float64), after.reshape(-1, 2).astype(np.float64)
    p_mid, q_mid = np.median(p, axis=0), np.median(q, axis=0)
    spread_before = float(np.median(np.hypot(*(p - p_mid).T)))
    spread_after = float(np.median(np.hypot(*(q - q_mid).T)))
    scale = spread_after / spread_before if spread_before > 1.0 else 1.0
    scale = min(max(scale, 1.0 / _MAX_SCALE_STEP), _MAX_SCALE_STEP)
    shift = q_mid - p_mid
    # A face that holds still should not have its box wander with the flow's sub-pixel noise.
    shift[np.abs(shift) < _STILL_SHIFT_PX] = 0.0
    if abs(scale - 1.0) < _STILL_SCALE:
        scale = 1.0
    cx, cy = (box[0] + box[2]) / 2.0 + shift[0], (box[1] + box[3]) / 2.0 + shift[1]
    half_w, half_h = scale * (box[2] - box[0]) / 2.0, scale * (box[3] - box[1]) / 2.0
    return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h])


def _lucas_kanade(before: np.ndarray, after: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where `points` of `before` went in `after`, and a status per point (1: found)."""
    # The ignore: OpenCV's stub requires an array for nextPts; the binding allocates the output for None.
    moved, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
        before,
        after,
        points,
        None,
        winSize=_LK_WIN_SIZE_PX,
        maxLevel=_LK_MAX_LEVEL,
        criteria=_LK_CRITERIA,
    )
    return np.asarray(moved), np.asarray(status)
