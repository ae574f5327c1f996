"""One frame's journey: detect (or follow the last boxes) -> track -> crop -> classify (one batch) -> smooth."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import CropMapping, FaceDetector, crop_face
from emolens.runtime.follow import BoxFollower
from emolens.runtime.smoother import EmaSmoother
from emolens.runtime.tracker import IouTracker
from emolens.types import Box, Detection, EmotionProbs, FaceResult, FrameResult, Landmarks

#: Context added beyond each detector's own FER2013 framing (`detector.crop`), x the box side, per side. Zero:
#: the per-detector mappings were measured on FER2013 itself (docs/crop-margin.md).
DEFAULT_CROP_MARGIN = 0.0

#: The stages FramePipeline times: detector runs, following boxes between them (and picking points to follow on
#: detector frames), track ids, crop + preprocess + the classifier call, smoothing and building the result.
PIPELINE_STAGES: tuple[str, ...] = ("detect", "follow", "track", "classify", "smooth")

_MIN_SHOWN_PX = 4  # a followed box squeezed thinner than this against the frame's edge is not cropped


@dataclass(frozen=True)
class PipelineOptions:
    """What one frame's journey does. The single home of these defaults: `RecognizerOptions`, the command line
    and the web app read them from here; a field with "help" in its metadata is a flag of the video commands."""

    crop_margin: float = DEFAULT_CROP_MARGIN  # beyond the detector's own crop mapping (detector.crop)
    #: Run the detector on every k-th frame; in between, the last boxes follow the face (runtime/follow.py).
    #: 3 keeps a 640x360 video in real time on 2 cores (docs/speed.md, "Video: stages, defaults, following").
    detect_every: int = field(
        default=3,
        metadata={
            "metavar": "K",
            "help": "detect faces on every K-th frame, track them in between (1: every frame)",
        },
    )
    follow: bool = True  # move boxes with the face between detector runs (False: reuse them as they are)
    whole_image: bool = False  # the whole frame is the face (for images that are already face crops)
    #: Video only: per-face moving average of probabilities.
    smooth: bool = field(
        default=True, metadata={"flag": "--no-smooth", "help": "raw per-frame probabilities, no moving average"}
    )
    smoothing_alpha: float = 0.5  # weight of the newest frame in that average
    iou_threshold: float = 0.3  # a box joins the track whose last box it overlaps at least this much
    #: Frames a face may go unseen (turned away, hidden) and keep its track id when it comes back nearby.
    max_missed: int = 30
    #: Frames a new face must be seen on before it is reported (two of them detector runs): shorter-lived
    #: boxes are the detector's false faces, and never become a face, a timeline or a row.
    min_hits: int = 4

    def __post_init__(self) -> None:
        if self.crop_margin < 0:
            raise ValueError(f"crop_margin must be at least 0, got {self.crop_margin}")
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {self.detect_every}")
        if not 0.0 < self.smoothing_alpha <= 1.0:
            raise ValueError(f"smoothing_alpha must be in (0, 1], got {self.smoothing_alpha}")
        if self.max_missed < 0:
            raise ValueError(f"max_missed must be at least 0, got {self.max_missed}")
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be at least 1, got {self.min_hits}")


def detect_and_classify(
    detector: FaceDetector, classifier: EmotionClassifier, image: np.ndarray, crop_margin: float, whole_image: bool
) -> tuple[list[Detection], np.ndarray]:
    """Stateless: the detections of one image and their (N, 7) probabilities, from one classifier call.

    Args:
        detector: finds the faces (unused with `whole_image`).
        classifier: the emotion model.
        image: a BGR uint8 array.
        crop_margin: how much context around each box the crop keeps (see `crop_face`).
        whole_image: the image is already a face crop: classify it whole, without detection.

    Returns:
        The detections and their probabilities, row i for detection i.
    """
    detections = whole_image_detection(image) if whole_image else detector.detect(image)
    return detections, classify_detections(classifier, image, detections, detector.crop, crop_margin, whole_image)


def whole_image_detection(image: np.ndarray) -> list[Detection]:
    """The image itself as the one face, for input that is already a face crop (`whole_image`).

    Args:
        image: the crop.

    Returns:
        One detection whose box covers the whole image, with no score.
    """
    return [Detection(Box(0, 0, image.shape[1], image.shape[0]))]


def classify_detections(
    classifier: EmotionClassifier,
    image: np.ndarray,
    detections: Sequence[Detection],
    mapping: CropMapping,
    crop_margin: float,
    whole_image: bool,
) -> np.ndarray:
    """(N, 7) probabilities of the detections' faces, each cropped as `mapping` says, in one classifier call.

    Args:
        classifier: the emotion model.
        image: the frame the detections were found in.
        detections: the faces to classify.
        mapping: how this detector's boxes become square crops (the detector's `crop`).
        crop_margin: how much context around each box the crop keeps.
        whole_image: classify the image itself as the one face; `detections` is then ignored.

    Returns:
        float32 probabilities, one row per face; (0, 7) when there is none.
    """
    crops = [image] if whole_image else [crop_face(image, d, mapping, crop_margin) for d in detections]
    return classifier.predict(crops)


def face_results(
    detections: Sequence[Detection], probs: np.ndarray, track_ids: Sequence[int | None] | None = None
) -> tuple[FaceResult, ...]:
    """The one place a FaceResult is assembled: a detection (box, score, landmarks), its probability row and
    (video) its track id.

    Args:
        detections: the faces.
        probs: their probabilities, one row each.
        track_ids: their track ids (video); None for a photo, where no face has one.

    Returns:
        One FaceResult per detection, in order.

    Raises:
        ValueError: If the three sequences differ in length.
    """
    ids = track_ids if track_ids is not None else [None] * len(detections)
    return tuple(
        FaceResult(
            box=d.box,
            probs=EmotionProbs.of(row),
            score=d.score,
            track_id=track_id,
            landmarks=None if d.landmarks is None else Landmarks.of(d.landmarks),
        )
        for d, row, track_id in zip(detections, probs, ids, strict=True)
    )


class FramePipeline:
    """Video mode: keeps tracker, follower and smoother state between frames; one per stream, not thread-safe.

    A face is reported once its track is confirmed (`PipelineOptions.min_hits`); only reported faces are
    classified.
    """

    def __init__(
        self, detector: FaceDetector, classifier: EmotionClassifier, options: PipelineOptions | None = None
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.options = opts = options or PipelineOptions()
        # A whole-image "face" is given, not detected: there is nothing to confirm.
        min_hits = 1 if opts.whole_image else opts.min_hits
        self._tracker = IouTracker(opts.iou_threshold, opts.max_missed, min_hits)
        self._follower = BoxFollower()
        self._smoother = EmaSmoother(opts.smoothing_alpha) if opts.smooth else None
        self._frames_seen = 0
        self._live: list[Detection] = []  # this stream's faces on the last frame, reported or not
        self._live_ids: list[int | None] = []  # their track ids (None: not confirmed yet)
        self._followed: list[Detection] = []  # the faces given to the follower on the last detector frame
        self._live_slots: list[int] = []  # for each face of _live, its index in _followed
        self._coasting: set[int] = set()  # ids of faces carried over a detector run that missed them
        #: Wall seconds spent in each of PIPELINE_STAGES since this pipeline was made (for benchmarks/bench_video.py).
        self.stage_seconds: dict[str, float] = dict.fromkeys(PIPELINE_STAGES, 0.0)

    def process(self, image: np.ndarray, time_s: float = 0.0, frame_index: int | None = None) -> FrameResult:
        """The next frame of the stream: detect or follow, track, classify the confirmed faces, smooth.

        Args:
            image: the frame, a BGR uint8 array.
            time_s: its timestamp, copied into the result.
            frame_index: its index; defaults to the count of frames processed before it.

        Returns:
            The confirmed faces of this frame with their track ids and (smoothed) probabilities.
        """
        opts = self.options
        spent = self.stage_seconds
        t0 = time.perf_counter()
        detected = opts.whole_image or self._frames_seen % opts.detect_every == 0
        if opts.whole_image:
            self._live = whole_image_detection(image)
        elif detected:
            detections = self.detector.detect(image)
            t1 = time.perf_counter()
            spent["detect"] += t1 - t0
            t0 = t1
            self._live = self._coast(detections, image)
            if opts.follow and opts.detect_every > 1:
                self._follower.start(image, [d.box for d in self._live])
                self._followed = self._live
                self._live_slots = list(range(len(self._live)))
        elif opts.follow:
            # A box the follower gave up (its region lost the face's contrast: a black frame) is gone from here on.
            # Landmarks belong to the frame the detector saw: a followed box has none.
            kept = [(slot, box) for slot, box in enumerate(self._follower.follow(image)) if box is not None]
            self._live_slots = [slot for slot, _ in kept]
            self._live = [dataclasses.replace(self._followed[slot], box=box, landmarks=None) for slot, box in kept]
        t1 = time.perf_counter()
        spent["follow"] += t1 - t0
        index = self._frames_seen if frame_index is None else frame_index
        self._frames_seen += 1
        track_ids = self._tracker.update([d.box for d in self._live], detected=detected)
        self._live_ids = track_ids
        # A followed box can slide off the frame: it is still tracked, but there is nothing left to show.
        shown = [
            (d, track_id)
            for d, track_id in zip(self._live, track_ids, strict=True)
            if track_id is not None and d.box.width >= _MIN_SHOWN_PX and d.box.height >= _MIN_SHOWN_PX
        ]
        faces = [d for d, _ in shown]
        ids = [track_id for _, track_id in shown]
        t2 = time.perf_counter()
        spent["track"] += t2 - t1
        probs = classify_detections(
            self.classifier, image, faces, self.detector.crop, opts.crop_margin, opts.whole_image
        )
        t3 = time.perf_counter()
        spent["classify"] += t3 - t2
        if self._smoother is not None:
            self._smoother.forget(self._tracker.dropped_ids)
            probs = self._smoother.update(ids, probs)
        result = FrameResult(faces=face_results(faces, probs, ids), frame_index=index, time_s=float(time_s))
        spent["smooth"] += time.perf_counter() - t3
        return result

    def _coast(self, detections: list[Detection], image: np.ndarray) -> list[Detection]:
        """`detections` plus, once, each confirmed face that this detector run missed while the last one found it,
        if its followed box still holds the face's contrast on `image` (not a black frame).

        A detector that misses a face on one run (Haar's blind spots, motion blur) would otherwise make it vanish
        until the next run; its followed box is kept until then instead. A face missed on two runs in a row is
        gone, at most one detector interval after it left; a face whose region went flat is gone at once.
        """
        if not self.options.follow or self.options.detect_every == 1:
            return detections
        kept = list(detections)
        coasting: set[int] = set()
        held: list[bool] | None = None  # the follower's verdict on this frame, asked for only when needed
        for face, track_id, slot in zip(self._live, self._live_ids, self._live_slots, strict=True):
            if track_id is None or track_id in self._coasting:
                continue
            if all(face.box.iou(d.box) < self.options.iou_threshold for d in detections):
                held = self._follower.contrast_kept(image) if held is None else held
                if held[slot]:
                    kept.append(dataclasses.replace(face, landmarks=None))
                    coasting.add(track_id)
        self._coasting = coasting
        return kept

    def reset(self) -> None:
        """Start a new stream: tracks, followed boxes and smoothing history are forgotten."""
        self._tracker.reset()
        if self._smoother is not None:
            self._smoother.reset()
        self._frames_seen = 0
        self._live = []
        self._live_ids = []
        self._followed = []
        self._live_slots = []
        self._coasting = set()
