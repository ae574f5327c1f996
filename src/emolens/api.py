"""The public face of emolens: `analyze(image)` for one-off calls, `Recognizer` to load a model once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from emolens.io.images import read_image
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detector import DETECTORS, FaceDetector, make_detector
from emolens.runtime.models import model_path
from emolens.runtime.pipeline import DEFAULT_CROP_MARGIN, FramePipeline, PipelineOptions, detect_and_classify
from emolens.types import FaceResult, FrameResult


@dataclass(frozen=True)
class RecognizerOptions:
    model: str | Path = "fast"  # a shipped model's name or a path to an .onnx file
    detector: str = "haar"
    min_face_px: int = 40  # smaller faces are ignored
    detector_max_side_px: int = 640  # frames are shrunk to this longest side before detection (speed)
    threads: int = 1  # onnxruntime intra-op threads
    smooth: bool = True  # video only: per-face moving average of probabilities
    smoothing_alpha: float = 0.5  # weight of the newest frame in that average
    detect_every: int = 1  # video only: detect on every k-th frame, reuse the boxes in between
    whole_image: bool = False  # the image is already a face crop: skip detection
    crop_margin: float = DEFAULT_CROP_MARGIN  # context around the detector's box, x its side, per side
    max_missed: int = 5  # video only: frames a face may go undetected and keep its track id

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; choose from {', '.join(DETECTORS)}")
        for name in ("min_face_px", "threads", "detect_every", "detector_max_side_px"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 < self.smoothing_alpha <= 1.0:
            raise ValueError(f"smoothing_alpha must be in (0, 1], got {self.smoothing_alpha}")
        if self.crop_margin < 0 or self.max_missed < 0:
            raise ValueError("crop_margin and max_missed must not be negative")


class Recognizer:
    """Loads the model and detector once. `analyze` may be called from several threads at once."""

    def __init__(self, options: RecognizerOptions | None = None) -> None:
        self.options = options or RecognizerOptions()
        self.classifier = EmotionClassifier(model_path(self.options.model), threads=self.options.threads)
        self.detector: FaceDetector = make_detector(
            self.options.detector, self.options.min_face_px, self.options.detector_max_side_px
        )

    @property
    def model_path(self) -> Path:
        return self.classifier.path

    def analyze(self, image: np.ndarray | str | Path) -> FrameResult:
        """Faces and emotions in one image (BGR array or a file). No tracking or smoothing: each call stands alone."""
        pixels = read_image(image) if isinstance(image, (str, Path)) else _check_array(image)
        detections, probs = detect_and_classify(
            self.detector, self.classifier, pixels, self.options.crop_margin, self.options.whole_image
        )
        faces = tuple(
            FaceResult(box=box, probs=tuple(float(p) for p in row), score=score)
            for (box, score), row in zip(detections, probs, strict=True)
        )
        return FrameResult(faces=faces)

    def stream(self, *, smooth: bool | None = None) -> VideoStream:
        """A video stream with its own tracker and smoother; it shares this recognizer's model.
        `smooth` overrides the options' choice for this stream only."""
        return VideoStream(self, smooth=self.options.smooth if smooth is None else smooth)


class VideoStream:
    """Consecutive frames of one video or camera: faces keep track ids and probabilities are smoothed."""

    def __init__(self, recognizer: Recognizer, smooth: bool = True) -> None:
        opts = recognizer.options
        self._pipeline = FramePipeline(
            recognizer.detector,
            recognizer.classifier,
            PipelineOptions(
                crop_margin=opts.crop_margin,
                detect_every=opts.detect_every,
                whole_image=opts.whole_image,
                smooth=smooth,
                smoothing_alpha=opts.smoothing_alpha,
                max_missed=opts.max_missed,
            ),
        )

    def process(self, image: np.ndarray, time_s: float, frame_index: int | None = None) -> FrameResult:
        """One frame; `frame_index` defaults to the count of frames processed before it."""
        return self._pipeline.process(_check_array(image), time_s=time_s, frame_index=frame_index)

    def reset(self) -> None:
        self._pipeline.reset()


def analyze(image: np.ndarray | str | Path, **option_overrides: object) -> FrameResult:
    """One image, one call: loads the model each time (use a Recognizer for many images)."""
    known = {f.name for f in fields(RecognizerOptions)}
    unknown = sorted(set(option_overrides) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; RecognizerOptions has {', '.join(sorted(known))}")
    return Recognizer(RecognizerOptions(**option_overrides)).analyze(image)  # type: ignore[arg-type]


def _check_array(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy image array or a path, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    return image
