"""Scoring a model on FER2013: metrics, calibration, and predictions from an .onnx file or a checkpoint.

The metrics are numpy only. `predict_probs` runs .onnx files through onnxruntime and imports torch
only when it is handed a training checkpoint (`best.pt`, `last.pt`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from emolens import modelmeta as meta_keys
from emolens.errors import ModelFileError
from emolens.preprocess import preprocess_faces
from emolens.runtime.classifier import EmotionClassifier
from emolens.types import EMOTIONS

log = logging.getLogger(__name__)

NUM_CLASSES = len(EMOTIONS)
ECE_BINS = 15
Tta = Literal["none", "flip"]
CHECKPOINT_SUFFIXES = {".pt", ".pth", ".ckpt"}


# --- metrics ---------------------------------------------------------------------------------------


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """(n, n) int64 counts; row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@dataclass(frozen=True)
class ClassificationMetrics:
    """Accuracy, macro-F1 and per-class precision/recall/F1 of one split; arrays are in EMOTIONS order."""

    accuracy: float
    macro_f1: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray

    @property
    def n(self) -> int:
        return int(self.support.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 6),
            "macro_f1": round(self.macro_f1, 6),
            "per_class": {
                name: {
                    "precision": round(float(self.precision[i]), 6),
                    "recall": round(float(self.recall[i]), 6),
                    "f1": round(float(self.f1[i]), 6),
                    "support": int(self.support[i]),
                }
                for i, name in enumerate(EMOTIONS)
            },
            "labels": list(EMOTIONS),
            "confusion_matrix": self.confusion.tolist(),
        }


def classification_metrics(y_true: np.ndarray, probs_or_pred: np.ndarray) -> ClassificationMetrics:
    """Metrics from true labels and either (N, 7) scores or (N,) predicted labels.

    A class never predicted has precision 0 (and one absent from y_true recall 0): the conservative
    convention, so that macro-F1 does not flatter a model that ignores a class.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    pred = np.asarray(probs_or_pred)
    y_pred = pred.argmax(axis=1) if pred.ndim == 2 else pred.astype(np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    cm = confusion_matrix(y_true, y_pred)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    accuracy = float(tp.sum() / max(1, len(y_true)))
    return ClassificationMetrics(accuracy, float(f1.mean()), precision, recall, f1, support, cm)


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: mean confidence, accuracy and count (empty bins have count 0)."""

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray

    @property
    def ece(self) -> float:
        total = self.count.sum()
        if total == 0:
            return 0.0
        return float((self.count / total * np.abs(self.accuracy - self.confidence)).sum())


def reliability_bins(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> ReliabilityBins:
    """Equal-width bins over the top-class confidence, as in Guo et al. 2017."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 cannot occur for a softmax top class.
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=correct, minlength=n_bins)
    safe = np.maximum(count, 1)
    return ReliabilityBins(edges, conf_sum / safe, acc_sum / safe, count)


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> float:
    return reliability_bins(probs, y_true, n_bins).ece


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def as_logits(probs: np.ndarray) -> np.ndarray:
    """Log-probabilities: logits up to a per-row constant, which softmax ignores."""
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0))


def nll(probs: np.ndarray, y_true: np.ndarray) -> float:
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), np.asarray(y_true)]
    return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())


def fit_temperature(logits: np.ndarray, y_true: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """The temperature T minimising the NLL of softmax(logits / T): golden-section search on log T.

    NLL is convex in 1/T, so the 1-D search finds the optimum. Pass `as_logits(probs)` for a model
    that outputs probabilities; the result is then relative to the temperature already inside it.
    """
    logits = np.asarray(logits, dtype=np.float64)

    def loss(log_t: float) -> float:
        return nll(softmax(logits, math.exp(log_t)), y_true)

    a, b = math.log(lo), math.log(hi)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return float(math.exp((a + b) / 2))


# --- predictions -----------------------------------------------------------------------------------


def is_checkpoint(path: str | Path) -> bool:
    return Path(path).suffix.lower() in CHECKPOINT_SUFFIXES


@dataclass(frozen=True)
class Predictor:
    """A loaded model: `run` maps preprocessed inputs (N, 1, 48, 48) float32 to probabilities (N, 7).

    `temperature` is the one already inside the model (ONNX metadata; 1.0 for a checkpoint's raw logits).
    """

    path: Path
    kind: str  # "onnx" or "checkpoint"
    run: Callable[[np.ndarray], np.ndarray]
    temperature: float = 1.0
    architecture: str = ""
    tta: str = "none"  # test-time augmentation already inside the model (ONNX metadata emolens.tta)


def load_predictor(model_path: str | Path, threads: int = 1) -> Predictor:
    path = Path(model_path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if is_checkpoint(path):
        return _torch_predictor(path, threads)
    return _onnx_predictor(path, threads)


def _onnx_predictor(path: Path, threads: int) -> Predictor:
    # The runtime's classifier, so eval loads a model exactly as users' code does (labels and preprocessing
    # checked against the metadata).
    classifier = EmotionClassifier(path, threads=max(1, threads))
    tta = classifier.metadata.get(meta_keys.TTA, "none")
    return Predictor(path, "onnx", classifier.predict_batch, classifier.temperature, classifier.architecture, tta)


def _torch_predictor(path: Path, threads: int) -> Predictor:
    import torch

    from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint

    if threads > 0:
        torch.set_num_threads(threads)
    state = load_checkpoint(path)
    model = model_from_checkpoint(state).float()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()

    return Predictor(path, "checkpoint", run, 1.0, str(state["config"].get("model", "")))


def predict_probs(
    model_path: str | Path,
    images: np.ndarray | Sequence[np.ndarray],
    tta: Tta = "none",
    threads: int = 1,
    batch_size: int = 256,
) -> np.ndarray:
    """(N, 7) float32 probabilities for face crops (N 48x48 uint8 images, or any crops) from an .onnx
    file or a checkpoint; tta="flip" averages the probabilities of each image and its mirror."""
    if tta not in ("none", "flip"):
        raise ValueError(f"unknown test-time augmentation {tta!r}; choose none or flip")
    predictor = load_predictor(model_path, threads)
    return predict_with(predictor, images, tta, batch_size)


def predict_with(
    predictor: Predictor,
    images: np.ndarray | Sequence[np.ndarray],
    tta: Tta = "none",
    batch_size: int = 256,
) -> np.ndarray:
    if tta == "flip" and predictor.tta == "flip":
        raise ValueError(f"{predictor.path}: the model already averages each face with its mirror; drop --tta flip")
    x = preprocess_faces(images)
    out = np.zeros((len(x), NUM_CLASSES), dtype=np.float32)
    for i in range(0, len(x), batch_size):
        batch = np.ascontiguousarray(x[i : i + batch_size])
        probs = predictor.run(batch)
        if tta == "flip":
            probs = 0.5 * (probs + predictor.run(np.ascontiguousarray(batch[:, :, :, ::-1])))
        out[i : i + batch_size] = probs
    return out


# --- robustness to detector-like jitter ------------------------------------------------------------

JITTER_KINDS: tuple[str, ...] = ("shift", "scale", "rotation", "blur", "brightness")


@dataclass(frozen=True)
class JitterConfig:
    """How far a face detector's crops typically stray from FER2013's centred faces."""

    shift_frac: float = 0.08  # of the crop side, each axis
    scale_frac: float = 0.12  # zoom in or out by up to this fraction
    rotation_deg: float = 10.0
    blur_sigma_px: float = 1.2  # Gaussian blur, sigma drawn in [0, this]
    brightness: float = 40.0  # additive, in grey levels


def jitter_images(
    images: np.ndarray, kinds: Sequence[str], seed: int = 0, cfg: JitterConfig | None = None
) -> np.ndarray:
    """A perturbed copy of (N, 48, 48) uint8 images; each image draws its own random parameters."""
    cfg = cfg or JitterConfig()
    unknown = set(kinds) - set(JITTER_KINDS)
    if unknown:
        raise ValueError(f"unknown jitter kind(s) {', '.join(sorted(unknown))}; choose from {', '.join(JITTER_KINDS)}")
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, img in enumerate(images):
        h, w = img.shape
        # Draw every parameter whatever the kinds, so that a kind's draws do not depend on the others.
        dx, dy = rng.uniform(-cfg.shift_frac, cfg.shift_frac, 2) * (w, h)
        scale = 1.0 + rng.uniform(-cfg.scale_frac, cfg.scale_frac)
        angle = rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)
        sigma = rng.uniform(0.0, cfg.blur_sigma_px)
        shift_gl = rng.uniform(-cfg.brightness, cfg.brightness)
        m = cv2.getRotationMatrix2D(
            ((w - 1) / 2, (h - 1) / 2),
            angle if "rotation" in kinds else 0.0,
            scale if "scale" in kinds else 1.0,
        )
        if "shift" in kinds:
            m[:, 2] += (dx, dy)
        res = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if "blur" in kinds and sigma > 0.05:
            res = cv2.GaussianBlur(res, (0, 0), sigma)
        if "brightness" in kinds:
            res = np.clip(res.astype(np.float32) + shift_gl, 0, 255).astype(np.uint8)
        out[i] = res
    return out
