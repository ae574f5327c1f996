"""emolens: facial emotion recognition in photos, videos and webcam streams, offline, on an ordinary CPU.

    import emolens
    result = emolens.analyze("photo.jpg")      # FrameResult: faces with boxes and emotion probabilities
    for face in result.faces:
        print(face.emotion, face.probs.happy, face.landmarks)   # probs by label; landmarks None without the CNN

Importing emolens is cheap: the runtime (OpenCV, onnxruntime) loads on first use of `analyze` or `Recognizer`,
and torch is never imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emolens.errors import DataFormatError, EmolensError, MediaError, ModelFileError
from emolens.types import EMOTIONS, Box, EmotionProbs, FaceResult, FrameResult, Landmarks, Point

if TYPE_CHECKING:
    from emolens.api import Recognizer, RecognizerOptions, VideoStream, analyze

__version__ = "0.1.0"

__all__ = [
    "EMOTIONS",
    "Box",
    "DataFormatError",
    "EmolensError",
    "EmotionProbs",
    "FaceResult",
    "FrameResult",
    "Landmarks",
    "MediaError",
    "ModelFileError",
    "Point",
    "Recognizer",
    "RecognizerOptions",
    "VideoStream",
    "analyze",
]

_LAZY = {"Recognizer", "RecognizerOptions", "VideoStream", "analyze"}


def __getattr__(name: str) -> Any:
    # The API pulls in onnxruntime: load it when first asked for, not when emolens is imported.
    if name in _LAZY:
        from emolens import api

        return getattr(api, name)
    raise AttributeError(f"module 'emolens' has no attribute {name!r}")
