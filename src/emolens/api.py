"""The public face of emolens: `analyze(image)` for one-off calls, `Recognizer` to load a model once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from emolens.io.images import read_image
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import (
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_SCORE,
    DETECTORS,
    FaceDetector,
    describe_detector,
    make_detector,
)
from emolens.runtime.pipeline import FramePipeline, PipelineOptions, detect_and_classify, face_results
from emolens.runtime.registry import DEFAULT_MODEL, model_path
from emolens.types import FrameResult


@dataclass(frozen=True)
class RecognizerOptions:
    """Everything a `Recognizer` can be told. Each default is defined once: here for the model and detector,
    in `PipelineOptions` for the per-frame settings (read from there, never retyped); the command line and the
    web app read them from these dataclasses."""

    model: str | Path = DEFAULT_MODEL  # a shipped model's name or a path to an .onnx file
    detector: str = "auto"  # "cnn", "haar", or "auto": the CNN (shipped as an ONNX file, so on every platform)
    min_score: float = DEFAULT_MIN_SCORE  # faces the detector is less sure of are dropped (the CNN; Haar has no score)
    #: Smaller faces are ignored. Defined once, as DEFAULT_MIN_FACE_PX in runtime/detectors/base.py; chosen on
    #: `benchmarks/bench_detect.py --min-face-grid` (docs/detectors.md): 8 px less finds more small faces with the
    #: CNN at the same cost on 640x360 frames, but costs 1.4x on 1280x720 ones and gives Haar false faces; 8 px
    #: more loses the faces of 40 px.
    min_face_px: int = DEFAULT_MIN_FACE_PX
    #: Frames are shrunk to this longest side before detection, never so far that a `min_face_px` face would
    #: be lost. 320 px: a quarter of the 640 px detector's cost, for IoU 0.90 against it and 97% of its labels
    #: (benchmarks/choose_video_defaults.py, README "Speed").
    detector_max_side_px: int = 320
    threads: int = 1  # onnxruntime intra-op threads
    smooth: bool = PipelineOptions.smooth
    smoothing_alpha: float = PipelineOptions.smoothing_alpha
    detect_every: int = PipelineOptions.detect_every  # video only
    whole_image: bool = PipelineOptions.whole_image  # the image is already a face crop: skip detection
    crop_margin: float = PipelineOptions.crop_margin
    max_missed: int = PipelineOptions.max_missed  # video only
    min_hits: int = PipelineOptions.min_hits  # video only
    follow: bool = PipelineOptions.follow  # video only

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; choose from {', '.join(DETECTORS)}")
        for name in ("min_face_px", "threads", "detector_max_side_px"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        self.pipeline_options()  # PipelineOptions checks its own fields

    def pipeline_options(self, **overrides: object) -> PipelineOptions:
        """The per-frame settings among these options, as the pipeline takes them; `overrides` win.

        Args:
            **overrides: PipelineOptions fields to set otherwise for this use (a stream's `smooth`, say).

        Returns:
            A new PipelineOptions.

        Raises:
            TypeError: an override names no PipelineOptions field.
            ValueError: a setting is out of range.
        """
        shared = {f.name: getattr(self, f.name) for f in fields(PipelineOptions) if hasattr(self, f.name)}
        return PipelineOptions(**{**shared, **overrides})


class Recognizer:
    """Loads the model and detector once. `analyze` may be called from several threads at once."""

    def __init__(self, options: RecognizerOptions | None = None) -> None:
        self.options = options or RecognizerOptions()
        self.classifier = EmotionClassifier(model_path(self.options.model), threads=self.options.threads)
        self.detector: FaceDetector = make_detector(
            self.options.detector, self.options.min_face_px, self.options.detector_max_side_px, self.options.min_score
        )

    @property
    def model_path(self) -> Path:
        """The .onnx file loaded: a shipped model's resolved path, or the path given."""
        return self.classifier.path

    @property
    def detector_description(self) -> str:
        """Which face detector runs, for people: "cnn (libfacedetection CNN on onnxruntime 1.x)" or "haar (...)"."""
        return describe_detector(self.detector.name)

    def analyze(self, image: np.ndarray | str | Path) -> FrameResult:
        """Faces and emotions in one image (BGR array or a file). No tracking or smoothing: each call stands alone.

        Args:
            image: a BGR (or BGRA, or grayscale) uint8 array, or the path of an image file.

        Returns:
            The faces found with their probabilities, as frame 0 at time 0.0.

        Raises:
            MediaError: If a file cannot be read or decoded, or is over the default size limits.
            TypeError: If `image` is neither an array nor a path.
            ValueError: If the array is empty or not an image's shape.
        """
        pixels = read_image(image) if isinstance(image, (str, Path)) else _check_array(image)
        detections, probs = detect_and_classify(
            self.detector, self.classifier, pixels, self.options.crop_margin, self.options.whole_image
        )
        return FrameResult(faces=face_results(detections, probs))

    def stream(self, *, smooth: bool | None = None) -> VideoStream:
        """A video stream with its own tracker and smoother; it shares this recognizer's model.

        Args:
            smooth: overrides the options' choice for this stream only; None keeps it.

        Returns:
            A new stream, starting at frame 0 with no tracks.
        """
        return VideoStream(self, smooth=self.options.smooth if smooth is None else smooth)


class VideoStream:
    """Consecutive frames of one video or camera: faces keep track ids and probabilities are smoothed."""

    def __init__(self, recognizer: Recognizer, smooth: bool = True) -> None:
        self._pipeline = FramePipeline(
            recognizer.detector, recognizer.classifier, recognizer.options.pipeline_options(smooth=smooth)
        )

    def process(self, image: np.ndarray, time_s: float, frame_index: int | None = None) -> FrameResult:
        """One frame: detect faces (every `detect_every` frames; follow them in between), track, classify, smooth.

        Args:
            image: the frame, a BGR (or BGRA, or grayscale) uint8 array.
            time_s: its timestamp, copied into the result.
            frame_index: its index; defaults to the count of frames processed before it.

        Returns:
            The frame's confirmed faces (a new face shows once seen on `min_hits` frames), each with its track id.

        Raises:
            TypeError: If `image` is not an array.
            ValueError: If the array is empty or not an image's shape.
        """
        return self._pipeline.process(_check_array(image), time_s=time_s, frame_index=frame_index)

    def reset(self) -> None:
        """Start a new video: tracks and smoothing history are forgotten (ids keep counting up, never reused)."""
        self._pipeline.reset()

    @property
    def stage_seconds(self) -> dict[str, float]:
        """Wall seconds this stream has spent in each pipeline stage (runtime.pipeline.PIPELINE_STAGES)."""
        return dict(self._pipeline.stage_seconds)


def analyze(image: np.ndarray | str | Path, **option_overrides: object) -> FrameResult:
    """One image, one call: loads the model each time (use a Recognizer for many images).

    Args:
        image: a BGR (or BGRA, or grayscale) uint8 array, or the path of an image file.
        **option_overrides: RecognizerOptions fields, e.g. detector="haar" or whole_image=True.

    Returns:
        The faces found and their emotion probabilities.

    Raises:
        TypeError: If an option is not a RecognizerOptions field, or `image` is neither an array nor a path.
        ValueError: If an option is out of range, or the array is not an image.
        MediaError: If a file cannot be read or decoded.
        ModelFileError: If the model cannot be found or loaded.
    """
    known = {f.name for f in fields(RecognizerOptions)}
    unknown = sorted(set(option_overrides) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; RecognizerOptions has {', '.join(sorted(known))}")
    # The ignore: the names are checked above and the values by RecognizerOptions itself.
    return Recognizer(RecognizerOptions(**option_overrides)).analyze(image)  # type: ignore[arg-type]


def _check_array(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy image array or a path, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    return image
