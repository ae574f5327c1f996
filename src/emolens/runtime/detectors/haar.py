"""OpenCV's frontal-face Haar cascade: ships inside OpenCV's wheels, so it works wherever emolens installs."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import cv2.data  # a submodule: `import cv2` loads it at run time but does not declare it to type checkers
import numpy as np

from emolens.errors import ModelFileError
from emolens.preprocess import to_gray_u8
from emolens.runtime.detectors.base import (
    DEFAULT_DETECT_SIDE_PX,
    DEFAULT_MIN_FACE_PX,
    CropMapping,
    detection_scale,
)
from emolens.types import Box, Detection

_HAAR_WINDOW_PX = 24  # the frontal-face cascade's training window: no smaller face can be found

#: FER2013's 48x48 frame is the Haar box itself, centred on it, to within a pixel (docs/crop-margin.md).
HAAR_CROP = CropMapping(side_scale=1.0, shift_x=0.0, shift_y=0.0)


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade. Its score is None: the cascade gives no calibrated confidence.

    Large frames are shrunk to at most `max_side_px` before detection (for speed), but never so far that a face
    of `min_face_px` would fall below the cascade's 24-pixel window. Thread-safe.
    """

    def __init__(
        self,
        min_face_px: int = DEFAULT_MIN_FACE_PX,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        max_side_px: int = DEFAULT_DETECT_SIDE_PX,
        cascade_path: str | Path | None = None,
    ) -> None:
        if min_face_px < 1:
            raise ValueError(f"min_face_px must be at least 1, got {min_face_px}")
        self.name = "haar"
        self.crop = HAAR_CROP
        self.min_face_px = min_face_px
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side_px = max_side_px
        self.cascade_path = Path(cascade_path or Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")
        self._local = threading.local()  # a CascadeClassifier keeps scratch buffers: one per thread
        self._cascade()  # fail now, not on the first frame

    def _cascade(self) -> cv2.CascadeClassifier:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            try:
                cascade = cv2.CascadeClassifier(str(self.cascade_path))
            except (cv2.error, SystemError) as err:  # OpenCV raises from a malformed XML file
                raise ModelFileError(f"{self.cascade_path}: could not load the Haar cascade") from err
            if cascade.empty():
                raise ModelFileError(f"{self.cascade_path}: could not load the Haar cascade")
            self._local.cascade = cascade
        return cascade

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR, gray, BGRA or 16-bit image, boxes clipped to it, left to right; score None.

        Args:
            image_bgr: the image at its own size; it is shrunk here as `max_side_px` and `min_face_px` allow.

        Returns:
            The faces at least `min_face_px` on each side; of boxes that overlap, the one the cascade is surest
            of; empty for an empty array.

        Raises:
            ValueError: an array that is not an image.
        """
        if image_bgr.size == 0:
            return []
        gray = to_gray_u8(image_bgr)
        height_px, width_px = gray.shape
        scale = detection_scale(height_px, width_px, self.max_side_px, self.min_face_px, _HAAR_WINDOW_PX)
        if scale < 1.0:
            gray = cv2.resize(gray, (round(width_px * scale), round(height_px * scale)), interpolation=cv2.INTER_AREA)
        min_side = max(_HAAR_WINDOW_PX, round(self.min_face_px * scale))
        # outputRejectLevels gives each box the cascade's final-stage weight: used to settle overlaps below.
        found, _, weights = self._cascade().detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(min_side, min_side),
            outputRejectLevels=True,
        )
        candidates = []
        for (x, y, w, h), weight in zip(np.asarray(found).reshape(-1, 4), np.asarray(weights).reshape(-1), strict=True):
            box = Box(round(x / scale), round(y / scale), round((x + w) / scale), round((y + h) / scale)).clip(
                width_px, height_px
            )
            if box.width >= self.min_face_px and box.height >= self.min_face_px:
                candidates.append((float(weight), box))
        boxes = sorted(_suppress_overlaps(candidates), key=lambda box: (box.x1, box.y1))
        return [Detection(box) for box in boxes]


def _suppress_overlaps(candidates: list[tuple[float, Box]], max_iou: float = 0.3) -> list[Box]:
    """Two real faces hardly ever overlap much; of overlapping boxes keep the one the cascade is surest of.

    (multi_face.jpg: a box on a forehead, weight 1.5, overlaps the real face below it, weight 10.6, at IoU 0.44.)
    """
    kept: list[Box] = []
    for _, box in sorted(candidates, key=lambda item: -item[0]):
        if all(box.iou(other) <= max_iou and not _mostly_inside(box, other) for other in kept):
            kept.append(box)
    return kept


def _mostly_inside(a: Box, b: Box) -> bool:
    inter = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)) * max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
    return inter > 0.6 * min(a.area, b.area)
