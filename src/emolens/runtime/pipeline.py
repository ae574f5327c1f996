"""One frame's journey: detect -> crop with margin -> classify (one batch) -> track -> smooth."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detector import FaceDetector
from emolens.runtime.smoother import EmaSmoother
from emolens.runtime.tracker import IouTracker
from emolens.types import Box, FaceResult, FrameResult

#: Fraction of the Haar box's side added on each side so the crop frames a face as FER2013's images do
#: (measured on FER2013 PublicTest, see docs/crop-margin.md).
DEFAULT_CROP_MARGIN = 0.0


@dataclass(frozen=True)
class PipelineOptions:
    """What one frame's journey does. The single home of these defaults: `RecognizerOptions`, the command line
    and the web app read them from here."""

    crop_margin: float = DEFAULT_CROP_MARGIN  # context around the detector's box, x its side, per side
    #: Run the detector on every k-th frame; in between, the last boxes are reused. 3 keeps a 640x360 video
    #: in real time on 2 cores (README, "Speed").
    detect_every: int = 3
    whole_image: bool = False  # the whole frame is the face (for images that are already face crops)
    smooth: bool = True  # video only: per-face moving average of probabilities
    smoothing_alpha: float = 0.5  # weight of the newest frame in that average
    iou_threshold: float = 0.3  # a box joins the track whose last box it overlaps at least this much
    max_missed: int = 5  # frames a face may go undetected and keep its track id

    def __post_init__(self) -> None:
        if self.crop_margin < 0:
            raise ValueError(f"crop_margin must be at least 0, got {self.crop_margin}")
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {self.detect_every}")
        if not 0.0 < self.smoothing_alpha <= 1.0:
            raise ValueError(f"smoothing_alpha must be in (0, 1], got {self.smoothing_alpha}")
        if self.max_missed < 0:
            raise ValueError(f"max_missed must be at least 0, got {self.max_missed}")


def crop_with_margin(image: np.ndarray, box: Box, margin: float) -> np.ndarray:
    """The square around `box` grown by `margin` x its side on each side; parts outside the frame repeat the edge."""
    side = max(box.width, box.height) * (1.0 + 2.0 * margin)
    cx, cy = (box.x1 + box.x2) / 2.0, (box.y1 + box.y2) / 2.0
    x1, y1 = round(cx - side / 2.0), round(cy - side / 2.0)
    x2, y2 = x1 + max(1, round(side)), y1 + max(1, round(side))
    height_px, width_px = image.shape[:2]
    inner = image[max(y1, 0) : min(y2, height_px), max(x1, 0) : min(x2, width_px)]
    if inner.size == 0:
        raise ValueError(f"box {box.xyxy()} lies outside the {width_px}x{height_px} frame")
    pads = (max(0, -y1), max(0, y2 - height_px), max(0, -x1), max(0, x2 - width_px))
    if any(pads):
        inner = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE)
    return inner


def detect_and_classify(
    detector: FaceDetector, classifier: EmotionClassifier, image: np.ndarray, crop_margin: float, whole_image: bool
) -> tuple[list[tuple[Box, float | None]], np.ndarray]:
    """Stateless: the detections of one image and their (N, 7) probabilities, from one classifier call."""
    detections = whole_image_detection(image) if whole_image else detector.detect(image)
    return detections, classify_boxes(classifier, image, detections, crop_margin, whole_image)


def whole_image_detection(image: np.ndarray) -> list[tuple[Box, float | None]]:
    return [(Box(0, 0, image.shape[1], image.shape[0]), None)]


def classify_boxes(
    classifier: EmotionClassifier,
    image: np.ndarray,
    detections: list[tuple[Box, float | None]],
    crop_margin: float,
    whole_image: bool,
) -> np.ndarray:
    crops = [image] if whole_image else [crop_with_margin(image, box, crop_margin) for box, _ in detections]
    return classifier.predict(crops)


class FramePipeline:
    """Video mode: keeps tracker and smoother state between frames; one instance per stream, not thread-safe."""

    def __init__(
        self, detector: FaceDetector, classifier: EmotionClassifier, options: PipelineOptions | None = None
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.options = options or PipelineOptions()
        self._tracker = IouTracker(self.options.iou_threshold, self.options.max_missed)
        self._smoother = EmaSmoother(self.options.smoothing_alpha) if self.options.smooth else None
        self._frames_seen = 0
        self._last_detections: list[tuple[Box, float | None]] = []

    def process(self, image: np.ndarray, time_s: float = 0.0, frame_index: int | None = None) -> FrameResult:
        opts = self.options
        if opts.whole_image:
            detections = whole_image_detection(image)
        elif self._frames_seen % opts.detect_every == 0:
            detections = self.detector.detect(image)
        else:
            detections = self._last_detections
        index = self._frames_seen if frame_index is None else frame_index
        self._frames_seen += 1
        self._last_detections = detections
        probs = classify_boxes(self.classifier, image, detections, opts.crop_margin, opts.whole_image)
        track_ids = self._tracker.update([box for box, _ in detections])
        if self._smoother is not None:
            self._smoother.forget(self._tracker.dropped_ids)
            probs = self._smoother.update(track_ids, probs)
        faces = tuple(
            FaceResult(box=box, probs=tuple(float(p) for p in row), score=score, track_id=track_id)
            for (box, score), row, track_id in zip(detections, probs, track_ids, strict=True)
        )
        return FrameResult(faces=faces, frame_index=index, time_s=float(time_s))

    def reset(self) -> None:
        """Start a new stream: tracks and smoothing history are forgotten."""
        self._tracker.reset()
        if self._smoother is not None:
            self._smoother.reset()
        self._frames_seen = 0
        self._last_detections = []
