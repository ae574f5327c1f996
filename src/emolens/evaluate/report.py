"""`emolens eval` as a library call: score a model on a split, with the calibration and jitter protocols.

The protocols are fixed here so every figure in MODEL_CARD.md comes from the same steps: the temperature is
fitted on PublicTest only (never on the split reported), and jitter draws one seeded set of perturbations.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np

from emolens.data import FaceDataset, ReadOptions, available_splits, load_data

from .jitter import JITTER_KINDS, jitter_images
from .metrics import (
    ClassificationMetrics,
    ReliabilityBins,
    as_logits,
    classification_metrics,
    fit_temperature,
    nll,
    reliability_bins,
    softmax,
)
from .predict import Predictor, Tta, load_predictor, predict_with, resolve_model

log = logging.getLogger("emolens")


@dataclass(frozen=True)
class EvalOptions:
    """What `evaluate_model` measures besides the plain metrics, and how it reads the data.

    Every field is a flag of `emolens eval` (`emolens.cli.common.add_field_flags` reads the metadata: help, choices);
    `read`'s fields too, shared with `emolens train`.
    """

    split: str = field(
        default="PrivateTest", metadata={"choices": available_splits(), "help": "the data split to score"}
    )
    #: "flip": average each face with its mirror image.
    tta: Tta = field(
        default="none", metadata={"choices": get_args(Tta), "help": "flip: average with the mirrored face"}
    )
    #: Fit a temperature on PublicTest; ECE before and after on `split`.
    calibration: bool = field(
        default=False,
        metadata={"help": "fit a temperature on PublicTest; report ECE before/after on --split, reliability PNG"},
    )
    jitter: bool = field(default=False, metadata={"help": "accuracy under detector-like crop jitter, one row per kind"})
    seed: int = field(default=0, metadata={"help": "seed of --jitter"})  # of the jitter draws
    threads: int = field(default=1, metadata={"help": "CPU threads for inference"})
    batch_size: int = field(default=256, metadata={"help": "faces per model call"})
    #: How the data is read (bad rows, the cache): flags shared with `emolens train`.
    read: ReadOptions = field(default_factory=ReadOptions)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")


@dataclass(frozen=True)
class Calibration:
    """What `EvalOptions.calibration` measured: a temperature fitted on `fitted_on`, and the split before and after.

    `temperature_relative` is applied on top of the model's own temperature; `temperature_for_export` is the
    product of the two, the value to bake into an exported model.
    """

    fitted_on: str
    temperature_relative: float
    temperature_for_export: float  # the model's own temperature times the fitted one
    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    accuracy_after: float


@dataclass(frozen=True)
class JitterRow:
    """Accuracy and macro-F1 of the reported split under one kind of crop jitter."""

    kind: str  # a jitter kind, "none" (clean) or "all" (every kind at once)
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class EvalReport:
    """One evaluation; `to_dict` is the JSON that `emolens eval --json` prints."""

    model: Path
    kind: str
    architecture: str
    data: str
    split: str
    tta: str
    skipped_rows: int
    skipped_files: int
    scores: ClassificationMetrics
    calibration: Calibration | None = None
    reliability: tuple[ReliabilityBins, ReliabilityBins] | None = None  # before and after calibration
    jitter: tuple[JitterRow, ...] | None = None
    files: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready view: the run's facts, the metrics of `ClassificationMetrics.to_dict`, then the extras.

        Returns:
            A dict; "calibration", "jitter" and "files" appear only when they were measured or written.
        """
        out: dict[str, Any] = {
            "model": str(self.model),
            "kind": self.kind,
            "architecture": self.architecture,
            "data": self.data,
            "split": self.split,
            "tta": self.tta,
            "skipped_rows": self.skipped_rows,
            "skipped_files": self.skipped_files,
            **self.scores.to_dict(),
        }
        if self.calibration is not None:
            out["calibration"] = asdict(self.calibration)
        if self.jitter is not None:
            out["jitter"] = [asdict(row) for row in self.jitter]
        if self.files:
            out["files"] = list(self.files)
        return out


def evaluate_model(model: str | Path, data: str | Path, options: EvalOptions | None = None) -> EvalReport:
    """Score a shipped model, an .onnx file or a checkpoint on one split of a data set.

    Args:
        model: "fast", "accurate", an .onnx file or a training checkpoint (.pt).
        data: fer2013.csv (plain, .gz, .xz) or an image-folder tree.
        options: what to measure; the defaults give plain metrics on PrivateTest.

    Returns:
        The report (`emolens.report_files.write_eval_report` writes it to a folder).

    Raises:
        ModelFileError: the model cannot be loaded.
        DataFormatError: a malformed row, with on_bad_row="error".
        FileNotFoundError: `data` does not exist.
        ValueError: the split (or PublicTest, for calibration) has no rows, or the split name is unknown.
    """
    opts = options or EvalOptions()
    predictor = load_predictor(resolve_model(model), opts.threads)
    dataset = load_data(data, opts.read.on_bad_row, opts.read.no_cache)
    test = dataset.split(opts.split)
    if len(test) == 0:
        raise ValueError(f"{data}: the split {opts.split} has no rows")
    log.info("%s (%s) on %s %s: %d faces", predictor.path, predictor.kind, data, opts.split, len(test))
    probs = predict_with(predictor, test.images, opts.tta, opts.batch_size)
    scores = classification_metrics(test.labels, probs)
    calibration, bins = _calibration(predictor, dataset, test, probs, opts) if opts.calibration else (None, None)
    report = EvalReport(
        model=predictor.path,
        kind=predictor.kind,
        architecture=predictor.architecture,
        data=str(data),
        split=opts.split,
        tta=opts.tta,
        skipped_rows=len(dataset.skipped_rows),
        skipped_files=len(dataset.skipped_files),
        scores=scores,
        calibration=calibration,
        reliability=bins,
        jitter=_jitter(predictor, test, scores, opts) if opts.jitter else None,
    )
    return report


def _calibration(
    predictor: Predictor, dataset: FaceDataset, test: FaceDataset, probs: np.ndarray, opts: EvalOptions
) -> tuple[Calibration, tuple[ReliabilityBins, ReliabilityBins]]:
    """Temperature fitted on PublicTest (never on the reported split), applied to `probs` of the test split."""
    val = dataset.split("PublicTest")
    if len(val) == 0:
        raise ValueError("no PublicTest (validation) rows to fit a temperature on")
    if opts.split.startswith("PublicTest"):
        log.warning("--calibration: the temperature is fitted on PublicTest, so ECE on %s is optimistic", opts.split)
    val_probs = predict_with(predictor, val.images, opts.tta, opts.batch_size)
    relative_t = fit_temperature(as_logits(val_probs), val.labels)
    calibrated = softmax(as_logits(probs), relative_t)
    before, after = reliability_bins(probs, test.labels), reliability_bins(calibrated, test.labels)
    summary = Calibration(
        fitted_on="PublicTest",
        temperature_relative=round(relative_t, 4),
        # Temperatures compose: softmax(log softmax(z / T0) / T) == softmax(z / (T0 * T)).
        temperature_for_export=round(predictor.temperature * relative_t, 4),
        ece_before=round(before.ece, 6),
        ece_after=round(after.ece, 6),
        nll_before=round(nll(probs, test.labels), 6),
        nll_after=round(nll(calibrated, test.labels), 6),
        accuracy_after=round(classification_metrics(test.labels, calibrated).accuracy, 6),
    )
    return summary, (before, after)


def _jitter(
    predictor: Predictor, test: FaceDataset, clean: ClassificationMetrics, opts: EvalOptions
) -> tuple[JitterRow, ...]:
    rows = [JitterRow("none", round(clean.accuracy, 6), round(clean.macro_f1, 6))]
    for kinds in [(k,) for k in JITTER_KINDS] + [JITTER_KINDS]:
        jittered = jitter_images(test.images, kinds, seed=opts.seed)
        scores = classification_metrics(test.labels, predict_with(predictor, jittered, opts.tta, opts.batch_size))
        name = "all" if len(kinds) > 1 else kinds[0]
        rows.append(JitterRow(name, round(scores.accuracy, 6), round(scores.macro_f1, 6)))
    return tuple(rows)
