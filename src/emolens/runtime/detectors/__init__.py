"""Face detectors behind one protocol, and `make_detector(name)` to pick one.

    "cnn"  libfacedetection's CNN, shipped as an ONNX file and run on onnxruntime: a confidence and five landmarks
           per face, turned and tilted faces; every platform emolens installs on
    "haar" OpenCV's frontal-face cascade, shipped with OpenCV itself: frontal faces only, no confidence
    "auto" the CNN

Each detector carries its own crop mapping (`detector.crop`): the square around its box that frames a face as
FER2013 does, measured per detector (docs/crop-margin.md).
"""

from __future__ import annotations

from emolens.runtime.detectors.base import (
    DEFAULT_DETECT_SIDE_PX,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_SCORE,
    CropMapping,
    FaceDetector,
    crop_face,
)
from emolens.runtime.detectors.haar import HaarFaceDetector

#: The names `make_detector` and `--detector` accept.
DETECTORS: tuple[str, ...] = ("auto", "cnn", "haar")


def resolve_detector(name: str) -> str:
    """The detector that `name` runs: "auto" becomes "cnn" (shipped with the package, so it runs everywhere).

    Args:
        name: one of DETECTORS.

    Returns:
        "cnn" or "haar".

    Raises:
        ValueError: a name not in DETECTORS.
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")
    if name == "auto":
        return "cnn"
    return name


def describe_detector(name: str) -> str:
    """A line for --version, /healthz and the web page: which detector `name` runs and where it comes from.

    Args:
        name: one of DETECTORS; "auto" is resolved first.

    Returns:
        E.g. "cnn (libfacedetection CNN on onnxruntime 1.20.1)" or "haar (OpenCV 4.x frontal-face cascade)".

    Raises:
        ValueError: If `name` is not in DETECTORS.
    """
    import cv2

    from emolens.runtime.detectors import cnn

    resolved = resolve_detector(name)
    if resolved == "cnn":
        return f"cnn (libfacedetection CNN on onnxruntime {cnn.runtime_version()})"
    return f"haar (OpenCV {cv2.__version__} frontal-face cascade)"


def make_detector(
    name: str = "auto",
    min_face_px: int = DEFAULT_MIN_FACE_PX,
    max_side_px: int = DEFAULT_DETECT_SIDE_PX,
    min_score: float = DEFAULT_MIN_SCORE,
) -> FaceDetector:
    """A detector by name (see DETECTORS). `min_score` applies to detectors with a confidence (the CNN); Haar has
    none and ignores it.

    Args:
        name: one of DETECTORS.
        min_face_px: faces smaller than this are not reported.
        max_side_px: images are shrunk to this longest side before detection, never so far that a
            `min_face_px` face would be lost.
        min_score: the CNN's confidence below which a face is dropped, in [0, 1].

    Returns:
        The detector; it may be shared between threads.

    Raises:
        ValueError: an unknown name or a setting out of range.
        ModelFileError: "cnn" where the network's file is missing from the installation.
    """
    resolved = resolve_detector(name)
    if resolved == "cnn":
        from emolens.runtime.detectors.cnn import CnnFaceDetector

        return CnnFaceDetector(min_face_px=min_face_px, max_side_px=max_side_px, min_score=min_score)
    return HaarFaceDetector(min_face_px=min_face_px, max_side_px=max_side_px)


__all__ = [
    "DEFAULT_DETECT_SIDE_PX",
    "DEFAULT_MIN_FACE_PX",
    "DEFAULT_MIN_SCORE",
    "DETECTORS",
    "CropMapping",
    "FaceDetector",
    "HaarFaceDetector",
    "crop_face",
    "describe_detector",
    "make_detector",
    "resolve_detector",
]
