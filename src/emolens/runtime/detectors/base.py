"""What every face detector offers, and the crop that turns its box into a face framed as FER2013 frames one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from emolens.types import Box, Detection

#: Faces a detector is less sure of than this are dropped (detectors with a confidence only). Chosen on
#: benchmarks/bench_detect.py --min-score (docs/speed.md, "Face detection").
DEFAULT_MIN_SCORE = 0.5
#: Faces smaller than this (px, on their longer side, in the frame's own pixels) are not reported; it also sets
#: how far a large frame may shrink before detection. Chosen on `benchmarks/bench_detect.py --min-face-grid`
#: (docs/detectors.md, "The smallest face size"). RecognizerOptions.min_face_px reads it.
DEFAULT_MIN_FACE_PX = 40
#: Frames are shrunk to this longest side before detection, never so far that a `min_face_px` face would be lost.
#: 320 px: a quarter of the 640 px detector's cost, for IoU 0.90 against it and 97% of its labels
#: (benchmarks/choose_video_defaults.py; docs/speed.md, "Video: stages, defaults, following").
#: RecognizerOptions.detector_max_side_px reads it.
DEFAULT_DETECT_SIDE_PX = 320


@dataclass(frozen=True)
class CropMapping:
    """How one detector's box maps onto FER2013's framing, measured per detector (docs/crop-margin.md).

    The crop is the square of side `side_scale` x the box's longer side, its centre moved from the box's centre
    by (`shift_x`, `shift_y`) x that side (positive: right, down).
    """

    side_scale: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0

    def __post_init__(self) -> None:
        if self.side_scale <= 0:
            raise ValueError(f"side_scale must be positive, got {self.side_scale}")

    def square(self, box: Box, margin: float = 0.0) -> tuple[int, int, int]:
        """(x1, y1, side) of the crop in pixels; `margin` x the side is added on each side beyond the mapping.

        Args:
            box: the detector's box.
            margin: extra context per side, as a fraction of the mapped side (0: the mapping alone).

        Returns:
            The square's top-left corner and side; it may reach past the image's edges.
        """
        box_side = max(box.width, box.height)
        side = box_side * self.side_scale * (1.0 + 2.0 * margin)
        cx = (box.x1 + box.x2) / 2.0 + self.shift_x * box_side
        cy = (box.y1 + box.y2) / 2.0 + self.shift_y * box_side
        return round(cx - side / 2.0), round(cy - side / 2.0), max(1, round(side))


class FaceDetector(Protocol):
    """Finds faces. `name` says which detector ran ("cnn", "haar"), `crop` how its boxes become FER2013 crops."""

    name: str
    crop: CropMapping

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR (or gray, BGRA, 16-bit) image, boxes in its pixels and clipped to it, left to right.

        Args:
            image_bgr: the image, at its own size (the detector shrinks it as it needs).

        Returns:
            One detection per face found; empty when there is none.
        """
        ...


def crop_face(image: np.ndarray, detection: Detection, mapping: CropMapping, margin: float = 0.0) -> np.ndarray:
    """The square `mapping` draws around the detection's box (grown by `margin` x its side per side); parts outside
    the frame repeat the edge.

    Args:
        image: the frame the detection was found in.
        detection: the face.
        mapping: the detector's box-to-crop mapping.
        margin: extra context per side, as a fraction of the mapped side.

    Returns:
        The square crop (a view into `image` when it lies inside, a padded copy otherwise).

    Raises:
        ValueError: the square does not overlap the image at all.
    """
    box = detection.box
    x1, y1, side = mapping.square(box, margin)
    x2, y2 = x1 + side, y1 + side
    height_px, width_px = image.shape[:2]
    inner = image[max(y1, 0) : min(y2, height_px), max(x1, 0) : min(x2, width_px)]
    if inner.size == 0:
        raise ValueError(f"box {box.xyxy()} lies outside the {width_px}x{height_px} frame")
    pads = (max(0, -y1), max(0, y2 - height_px), max(0, -x1), max(0, x2 - width_px))
    if any(pads):
        inner = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE)
    return inner


#: Longest side a detector ever sees, whatever min_face_px asks for: a larger frame costs seconds per image and,
#: near 30000 px, crashed OpenCV's Haar cascade. On a bigger image a face then needs side/2560 x the smallest size.
MAX_DETECT_SIDE_PX = 2560


def detection_scale(height_px: int, width_px: int, max_side_px: int, min_face_px: int, smallest_px: int) -> float:
    """How far to shrink a frame before detection: to at most `max_side_px` on its longer side (speed), but never
    so far that a face of `min_face_px` falls below `smallest_px`, the smallest face the detector can find, and
    always to at most MAX_DETECT_SIDE_PX.

    Args:
        height_px: the frame's height.
        width_px: the frame's width.
        max_side_px: the longest side wanted, for speed.
        min_face_px: the smallest face the caller wants found, in the frame's pixels.
        smallest_px: the smallest face this detector finds, in the pixels it sees.

    Returns:
        The factor to resize by, at most 1.0 (frames are never enlarged).
    """
    long_side_px = max(height_px, width_px, 1)
    return min(1.0, max(max_side_px / long_side_px, smallest_px / min_face_px), MAX_DETECT_SIDE_PX / long_side_px)
