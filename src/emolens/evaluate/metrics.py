"""Classification metrics and calibration on numpy arrays: accuracy, macro-F1, confusion, ECE, temperature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from emolens.types import EMOTIONS

NUM_CLASSES = len(EMOTIONS)
ECE_BINS = 15


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """(n, n) int64 counts; row = true class, column = predicted class.

    Args:
        y_true: True class indices, (N,), each in 0..n_classes-1.
        y_pred: Predicted class indices, (N,), each in 0..n_classes-1.
        n_classes: The number of classes.

    Returns:
        The confusion matrix, (n_classes, n_classes).
    """
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
        """The number of rows scored (the sum of `support`)."""
        return int(self.support.sum())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, as eval_metrics.json stores it; floats rounded to 6 places.

        Returns:
            n, accuracy, macro_f1, per_class (precision, recall, f1, support by emotion name),
            labels and confusion_matrix.
        """
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

    Args:
        y_true: True class indices, (N,).
        probs_or_pred: Scores (N, 7), of which the argmax is taken, or predicted indices (N,).

    Returns:
        The metrics of the N rows.

    Raises:
        ValueError: If labels and predictions differ in number.
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
        """Expected calibration error: the count-weighted mean gap between accuracy and confidence (0 with no rows)."""
        total = self.count.sum()
        if total == 0:
            return 0.0
        return float((self.count / total * np.abs(self.accuracy - self.confidence)).sum())


def reliability_bins(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> ReliabilityBins:
    """Equal-width bins over the top-class confidence, as in Guo et al. 2017.

    Args:
        probs: Class probabilities, (N, C).
        y_true: True class indices, (N,).
        n_bins: The number of bins over [0, 1]; each bin is (lo, hi].

    Returns:
        The bin edges (n_bins + 1) and, per bin, mean confidence, accuracy and count.
    """
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
    """The ECE of `reliability_bins(probs, y_true, n_bins)`.

    Args:
        probs: Class probabilities, (N, C).
        y_true: True class indices, (N,).
        n_bins: The number of equal-width confidence bins.

    Returns:
        The expected calibration error, in [0, 1].
    """
    return reliability_bins(probs, y_true, n_bins).ece


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`, computed in float64 with the row maximum subtracted.

    Args:
        logits: Scores, (N, C).
        temperature: Divides the logits; above 1 softens, below 1 sharpens.

    Returns:
        float32 probabilities, (N, C), each row summing to 1.
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def as_logits(probs: np.ndarray) -> np.ndarray:
    """Log-probabilities: logits up to a per-row constant, which softmax ignores.

    Args:
        probs: Class probabilities, (N, C); values are clipped to [1e-12, 1] so a 0 gives a finite log.

    Returns:
        float64 log-probabilities, same shape.
    """
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0))


def nll(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes (probabilities clipped at 1e-12 to stay finite).

    Args:
        probs: Class probabilities, (N, C).
        y_true: True class indices, (N,).

    Returns:
        The mean NLL in nats.
    """
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), np.asarray(y_true)]
    return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())


def fit_temperature(logits: np.ndarray, y_true: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """The temperature T minimising the NLL of softmax(logits / T): golden-section search on log T.

    NLL is convex in 1/T, so the 1-D search finds the optimum. Pass `as_logits(probs)` for a model
    that outputs probabilities; the result is then relative to the temperature already inside it.

    Args:
        logits: Scores, (N, C).
        y_true: True class indices, (N,).
        lo: The smallest temperature searched.
        hi: The largest temperature searched.

    Returns:
        The fitted temperature, within [lo, hi].
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
