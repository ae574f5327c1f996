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
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def xyxy(self) -> list[int]:
        return [self.x1, self.y1, self.x2, self.y2]

    def iou(self, other: Box) -> float:
        ix = max(0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clip(self, width_px: int, height_px: int) -> Box:
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
        return EMOTIONS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(max(self.probs))

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of the command-line and REST contract."""
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
        return {
            "frame": self.frame_index,
            "time_s": round(self.time_s, 4),
            "faces": [face.to_dict() for face in self.faces],
        }
