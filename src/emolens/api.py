"""The public face of emolens: `analyze(image)` for one-off calls, `Recognizer` to load a model once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from emolens.io.images import read_image
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import (
    DEFAULT_DETECT_SIDE_PX,
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
    """Everything a `Recognizer` can be told, as one tree: the model and detector here, the per-frame settings in
    `pipeline` (a `PipelineOptions`). Each default is defined once, in these two dataclasses (the detector's in
    runtime/detectors/base.py); the command line and the web app read them from here.

    `RecognizerOptions(min_face_px=40)` and `RecognizerOptions(pipeline=PipelineOptions(detect_every=2))` set one
    level each; `RecognizerOptions.from_flat(min_face_px=40, detect_every=2)` takes both levels' fields as flat
    keywords, as `analyze(image, **options)` does. A field with "help" in its metadata is a flag of every command
    that runs the model (`emolens.cli.common.add_field_flags`)."""

    model: str | Path = field(
        default=DEFAULT_MODEL, metadata={"help": "shipped model name (fast, accurate) or a path to an .onnx file"}
    )
    #: "cnn", "haar", or "auto": the CNN (shipped as an ONNX file, so on every platform).
    detector: str = field(
        default="auto",
        metadata={
            "choices": DETECTORS,
            "help": "face detector: cnn (libfacedetection's CNN, shipped as an ONNX file), haar (OpenCV's frontal-face "
            "cascade), or auto: the CNN (default %(default)s)",
        },
    )
    #: Faces the detector is less sure of are dropped (the CNN; Haar has no score).
    min_score: float = field(
        default=DEFAULT_MIN_SCORE,
        metadata={
            "metavar": "S",
            "help": "drop faces the detector is less sure of, 0 to 1 (the CNN's confidence; Haar has none) "
            "(default %(default)s)",
        },
    )
    #: Smaller faces are ignored. Defined once, as DEFAULT_MIN_FACE_PX in runtime/detectors/base.py; chosen on
    #: `benchmarks/bench_detect.py --min-face-grid` (docs/detectors.md): 8 px less finds more small faces with the
    #: CNN at the same cost on 640x360 frames, but costs 1.4x on 1280x720 ones and gives Haar false faces; 8 px
    #: more loses the faces of 40 px.
    min_face_px: int = field(
        default=DEFAULT_MIN_FACE_PX, metadata={"metavar": "N", "help": "ignore faces smaller than N px"}
    )
    #: Frames are shrunk to this longest side before detection (DEFAULT_DETECT_SIDE_PX in detectors/base.py,
    #: where it is explained).
    detector_max_side_px: int = field(
        default=DEFAULT_DETECT_SIDE_PX,
        metadata={
            "flag": "--detector-side-px",
            "metavar": "PX",
            "help": "shrink frames to this longest side before detection (320 with --min-face-px 80 is about 3x "
            "faster)",
        },
    )
    threads: int = field(default=1, metadata={"help": "onnxruntime threads"})  # intra-op threads
    #: What each frame's journey does: crop margin, detection every k-th frame, following, tracking, smoothing.
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; choose from {', '.join(DETECTORS)}")
        for name in ("min_face_px", "threads", "detector_max_side_px"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if not isinstance(self.pipeline, PipelineOptions):
            raise TypeError(f"pipeline must be a PipelineOptions, got {type(self.pipeline).__name__}")

    @classmethod
    def from_flat(cls, **settings: Any) -> RecognizerOptions:
        """Options from flat keywords: this class's fields and `PipelineOptions`' alike.

        Args:
            **settings: e.g. min_face_px=60, detect_every=2, whole_image=True; unnamed fields keep their defaults.

        Returns:
            The options, the pipeline's fields nested in `pipeline`.

        Raises:
            TypeError: a keyword names no field of either class.
            ValueError: a setting is out of range (the message names it).
        """
        own = {f.name for f in fields(cls)} - {"pipeline"}
        per_frame = {f.name for f in fields(PipelineOptions)}
        unknown = sorted(set(settings) - own - per_frame)
        if unknown:
            known = ", ".join(sorted(own | per_frame))
            raise TypeError(f"unknown option(s) {', '.join(unknown)}; RecognizerOptions has {known}")
        pipeline = PipelineOptions(**{k: v for k, v in settings.items() if k in per_frame})
        return cls(**{k: v for k, v in settings.items() if k in own}, pipeline=pipeline)

    def flat(self) -> dict[str, Any]:
        """Every setting by its field name, the pipeline's beside the recognizer's (the inverse of `from_flat`).

        Returns:
            A new dict (model as given: a name or a path).
        """
        own = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pipeline"}
        return {**own, **asdict(self.pipeline)}


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
            self.detector, self.classifier, pixels, self.options.pipeline.crop_margin, self.options.pipeline.whole_image
        )
        return FrameResult(faces=face_results(detections, probs))

    def stream(self, *, smooth: bool | None = None) -> VideoStream:
        """A video stream with its own tracker and smoother; it shares this recognizer's model.

        Args:
            smooth: overrides the options' choice for this stream only; None keeps it.

        Returns:
            A new stream, starting at frame 0 with no tracks.
        """
        return VideoStream(self, smooth=self.options.pipeline.smooth if smooth is None else smooth)


class VideoStream:
    """Consecutive frames of one video or camera: faces keep track ids and probabilities are smoothed."""

    def __init__(self, recognizer: Recognizer, smooth: bool = True) -> None:
        self._pipeline = FramePipeline(
            recognizer.detector, recognizer.classifier, replace(recognizer.options.pipeline, smooth=smooth)
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
        **option_overrides: RecognizerOptions or PipelineOptions fields, e.g. detector="haar" or whole_image=True
            (see `RecognizerOptions.from_flat`).

    Returns:
        The faces found and their emotion probabilities.

    Raises:
        TypeError: If an option is a field of neither RecognizerOptions nor PipelineOptions, or `image` is neither
            an array nor a path.
        ValueError: If an option is out of range, or the array is not an image.
        MediaError: If a file cannot be read or decoded.
        ModelFileError: If the model cannot be found or loaded.
    """
    return Recognizer(RecognizerOptions.from_flat(**option_overrides)).analyze(image)


def _check_array(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy image array or a path, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or image.size == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    return image
