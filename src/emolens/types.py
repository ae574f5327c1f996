"""The small result types that flow through every stage, and the seven labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: FER2013's label order: index i of a probability vector is EMOTIONS[i].
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


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
    """One face: where it is, how sure the detector was, and the emotion probabilities."""

    box: Box
    probs: tuple[float, ...]
    score: float | None = None
    track_id: int | None = None

    @property
    def emotion(self) -> str:
        """The most probable label (the first one on a tie)."""
        return EMOTIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        """The probability of `emotion`."""
        return float(max(self.probs))

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the command-line and REST contract.

        Returns:
            track_id (only when set), box as [x1, y1, x2, y2], score, emotion and probs (label -> probability),
            numbers rounded to 4 decimals.
        """
        out: dict[str, object] = {}
        if self.track_id is not None:
            out["track_id"] = self.track_id
        out["box"] = self.box.xyxy()
        out["score"] = None if self.score is None else round(float(self.score), 4)
        out["emotion"] = self.emotion
        out["probs"] = {name: round(float(p), 4) for name, p in zip(EMOTIONS, self.probs, strict=True)}
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
