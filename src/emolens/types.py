"""The small result types that flow through every stage, and the seven labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class EmotionProbs(NamedTuple):
    """A face's probability of each emotion, labelled: `probs.happy`, `probs.as_dict()["happy"]`.

    It is a tuple in FER2013's label order (EMOTIONS), so indexing by position (`probs[3]`), iterating,
    `max(probs)` and `np.asarray(probs)` work as they did when `FaceResult.probs` was a plain tuple.
    """

    angry: float
    disgust: float
    fear: float
    happy: float
    sad: float
    surprise: float
    neutral: float

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> EmotionProbs:
        """The probabilities from any sequence of seven numbers in EMOTIONS order (a classifier's output row).

        Args:
            values: seven numbers, EMOTIONS[i]'s probability at index i.

        Returns:
            The labelled probabilities, as Python floats.

        Raises:
            ValueError: If there are not exactly seven values.
        """
        floats = tuple(float(v) for v in values)
        if len(floats) != len(cls._fields):
            raise ValueError(f"expected {len(cls._fields)} probabilities ({', '.join(cls._fields)}), got {len(floats)}")
        return cls(*floats)

    def as_dict(self) -> dict[str, float]:
        """Label -> probability, in EMOTIONS order (a new dict each call).

        Returns:
            E.g. {"angry": 0.01, ..., "neutral": 0.04}.
        """
        return dict(zip(self._fields, self, strict=True))


#: FER2013's label order: index i of a probability vector is EMOTIONS[i] (EmotionProbs' field order).
EMOTIONS: tuple[str, ...] = EmotionProbs._fields


class Point(NamedTuple):
    """A point in an image's pixels (x to the right, y down, from the top-left corner; sub-pixel)."""

    x: float
    y: float


class Landmarks(NamedTuple):
    """The five face landmarks libfacedetection's CNN gives, each a Point in the original frame's pixels.

    Left and right are the image's (the person's right eye is `eye_l` when they face the camera): `eye_l`, the
    eye on the image's left; `eye_r`, the one on its right; `nose`, the nose tip; `mouth_l` and `mouth_r`, the
    mouth corners on the image's left and right. Points are not clipped: near the frame's edge one may lie a
    little outside it.
    """

    eye_l: Point
    eye_r: Point
    nose: Point
    mouth_l: Point
    mouth_r: Point

    @classmethod
    def of(cls, points: Sequence[Sequence[float]]) -> Landmarks:
        """The landmarks from five (x, y) pairs in the order of the fields (a `Detection.landmarks`).

        Args:
            points: five (x, y) pairs.

        Returns:
            The named points, as Python floats.

        Raises:
            ValueError: If there are not exactly five pairs of two numbers.
        """
        pairs = [tuple(float(v) for v in p) for p in points]
        if len(pairs) != len(cls._fields) or any(len(p) != 2 for p in pairs):
            raise ValueError(f"expected {len(cls._fields)} (x, y) points ({', '.join(cls._fields)}), got {points!r}")
        return cls(*(Point(x, y) for x, y in pairs))


#: The landmarks' names, in their order (Landmarks' fields).
LANDMARK_POINTS: tuple[str, ...] = Landmarks._fields
#: Flat-table (CSV, Parquet) names of the probabilities: "p_" + the label, what JSON nests as probs.<label>.
PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in EMOTIONS)
#: Flat-table names of the landmarks: "lm_" + point + "_x"/"_y", what JSON nests as landmarks.<point> = [x, y].
LANDMARK_COLUMNS: tuple[str, ...] = tuple(f"lm_{point}_{axis}" for point in LANDMARK_POINTS for axis in ("x", "y"))


def flat_landmarks(landmarks: Landmarks | None) -> tuple[float | None, ...]:
    """The landmarks as the LANDMARK_COLUMNS values of one row.

    Args:
        landmarks: a face's landmarks, or None where it has none.

    Returns:
        Ten numbers (x, y of each point, in LANDMARK_POINTS order), or ten Nones.
    """
    if landmarks is None:
        return (None,) * len(LANDMARK_COLUMNS)
    return tuple(v for point in landmarks for v in point)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels, corners (x1, y1) inclusive and (x2, y2) exclusive."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        """Pixels from left to right edge; negative for a box whose corners are swapped."""
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        """Pixels from top to bottom edge; negative for a box whose corners are swapped."""
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        """Square pixels covered; 0 for an empty or inverted box."""
        return max(0, self.width) * max(0, self.height)

    def xyxy(self) -> list[int]:
        """The corners as a list, the form of the JSON output.

        Returns:
            [x1, y1, x2, y2].
        """
        return [self.x1, self.y1, self.x2, self.y2]

    def iou(self, other: Box) -> float:
        """Intersection over union, the overlap measure the tracker matches boxes by.

        Args:
            other: the box to compare with.

        Returns:
            Shared area over combined area, in [0, 1]; 0.0 when both boxes are empty.
        """
        ix = max(0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clip(self, width_px: int, height_px: int) -> Box:
        """This box cut to an image's bounds (a detector may reach past the edge).

        Args:
            width_px: the image's width.
            height_px: the image's height.

        Returns:
            A box with every corner inside [0, width_px] x [0, height_px]; it may be empty.
        """
        return Box(
            min(max(self.x1, 0), width_px),
            min(max(self.y1, 0), height_px),
            min(max(self.x2, 0), width_px),
            min(max(self.y2, 0), height_px),
        )


@dataclass(frozen=True)
class Detection:
    """One face as a detector found it, before classification.

    `score` is the detector's confidence in [0, 1], or None for a detector that has no calibrated one (Haar).
    `landmarks`, where the detector gives them, are five (x, y) points in the image's pixels, in the order the
    image shows them: the eye on the image's left, the eye on its right, the nose tip, the mouth corner on the
    image's left, the one on its right.
    """

    box: Box
    score: float | None = None
    landmarks: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, how sure the detector was, the emotion probabilities and (where known) landmarks.

    `probs` is an EmotionProbs: labelled (`face.probs.happy`, `face.probs.as_dict()`) and still a tuple in
    EMOTIONS order (`face.probs[3]`). A plain sequence of seven numbers given here is converted to one.
    `landmarks` are the detector's five points (Landmarks: eyes, nose tip, mouth corners, in the original
    frame's pixels), or None: the Haar cascade finds none, a whole-image face has none, and in a video a box
    followed between detector runs has none (the points belong to the frame the detector saw).

    Raises:
        ValueError: If `probs` is not seven numbers, or `landmarks` not five (x, y) points.
    """

    box: Box
    probs: EmotionProbs
    score: float | None = None
    track_id: int | None = None
    landmarks: Landmarks | None = None

    def __post_init__(self) -> None:
        # Frozen: conversions go through object.__setattr__. They keep FaceResult(box, (0.1, ...)) working.
        if not isinstance(self.probs, EmotionProbs):
            object.__setattr__(self, "probs", EmotionProbs.of(self.probs))
        if self.landmarks is not None and not isinstance(self.landmarks, Landmarks):
            object.__setattr__(self, "landmarks", Landmarks.of(self.landmarks))

    @property
    def emotion(self) -> str:
        """The most probable label (the first one on a tie)."""
        return EMOTIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        """The probability of `emotion`."""
        return float(max(self.probs))

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the command-line and REST contract (docs/outputs.md).

        Returns:
            track_id (only when set), box as [x1, y1, x2, y2], score, emotion, probs (label -> probability,
            4 decimals) and landmarks (point name -> [x, y] in pixels, 2 decimals; null where there are none).
        """
        out: dict[str, object] = {}
        if self.track_id is not None:
            out["track_id"] = self.track_id
        out["box"] = self.box.xyxy()
        out["score"] = None if self.score is None else round(float(self.score), 4)
        out["emotion"] = self.emotion
        out["probs"] = {name: round(p, 4) for name, p in self.probs.as_dict().items()}
        out["landmarks"] = (
            None
            if self.landmarks is None
            else {name: [round(p.x, 2), round(p.y, 2)] for name, p in zip(LANDMARK_POINTS, self.landmarks, strict=True)}
        )
        return out


@dataclass(frozen=True)
class FrameResult:
    """All faces of one frame; `frame_index` counts from 0, `time_s` is the frame's timestamp."""

    faces: tuple[FaceResult, ...] = field(default_factory=tuple)
    frame_index: int = 0
    time_s: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of one frame in the command-line and REST contract.

        Returns:
            frame (its index), time_s rounded to 4 decimals, and faces, each as `FaceResult.to_dict` gives it.
        """
        return {
            "frame": self.frame_index,
            "time_s": round(self.time_s, 4),
            "faces": [face.to_dict() for face in self.faces],
        }
