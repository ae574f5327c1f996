"""Scoring a model on FER2013, in three parts: metrics (numpy only), predictions from a model file, and crop
jitter; `report` puts them together as `emolens eval` runs them.

torch is imported only when a training checkpoint is evaluated.
"""

from emolens.evaluate.jitter import JITTER_KINDS, JitterConfig, jitter_images
from emolens.evaluate.metrics import (
    ECE_BINS,
    NUM_CLASSES,
    ClassificationMetrics,
    ReliabilityBins,
    as_logits,
    classification_metrics,
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    nll,
    reliability_bins,
    softmax,
)
from emolens.evaluate.predict import (
    CHECKPOINT_SUFFIXES,
    Predictor,
    Tta,
    is_checkpoint,
    load_predictor,
    predict_probs,
    predict_with,
    resolve_model,
)
from emolens.evaluate.report import Calibration, EvalOptions, EvalReport, JitterRow, evaluate_model

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "ECE_BINS",
    "JITTER_KINDS",
    "NUM_CLASSES",
    "Calibration",
    "ClassificationMetrics",
    "EvalOptions",
    "EvalReport",
    "JitterConfig",
    "JitterRow",
    "Predictor",
    "ReliabilityBins",
    "Tta",
    "as_logits",
    "classification_metrics",
    "confusion_matrix",
    "evaluate_model",
    "expected_calibration_error",
    "fit_temperature",
    "is_checkpoint",
    "jitter_images",
    "load_predictor",
    "nll",
    "predict_probs",
    "predict_with",
    "reliability_bins",
    "resolve_model",
    "softmax",
]
