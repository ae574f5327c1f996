"""A synthetic moving face for the follower and pipeline tests: a textured patch over a plain background."""

from __future__ import annotations

import cv2
import numpy as np

from emolens.types import Box

FRAME_PX = (360, 640)  # height, width


def texture(side_px: int, seed: int = 0) -> np.ndarray:
    """A face-sized patch with corners to follow: blurred noise stretched to the full gray range."""
    noise = np.random.default_rng(seed).random((side_px, side_px)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return cv2.normalize(blurred, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def scene(box: Box, patch: np.ndarray) -> np.ndarray:
    """A BGR frame: a soft gradient (nothing to lock onto) with `patch` resized into `box`."""
    height_px, width_px = FRAME_PX
    gradient = np.linspace(60, 120, width_px, dtype=np.float32)[None, :].repeat(height_px, axis=0)
    frame = gradient.astype(np.uint8)
    frame[box.y1 : box.y2, box.x1 : box.x2] = cv2.resize(patch, (box.width, box.height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def moving_boxes(frames: int, dx: int, dy: int, grow_px: int = 0) -> list[Box]:
    return [
        Box(
            200 + dx * i - grow_px * i,
            100 + dy * i - grow_px * i,
            300 + dx * i + grow_px * i,
            200 + dy * i + grow_px * i,
        )
        for i in range(frames)
    ]
