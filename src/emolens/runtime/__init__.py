"""Inference without torch: face detector, onnxruntime classifier, IoU tracker, smoother, and the pipeline."""

from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import FaceDetector, HaarFaceDetector, crop_face, make_detector
from emolens.runtime.pipeline import DEFAULT_CROP_MARGIN, FramePipeline, PipelineOptions
from emolens.runtime.registry import model_path
from emolens.runtime.smoother import EmaSmoother
from emolens.runtime.tracker import IouTracker

__all__ = [
    "DEFAULT_CROP_MARGIN",
    "EmaSmoother",
    "EmotionClassifier",
    "FaceDetector",
    "FramePipeline",
    "HaarFaceDetector",
    "IouTracker",
    "PipelineOptions",
    "crop_face",
    "make_detector",
    "model_path",
]
