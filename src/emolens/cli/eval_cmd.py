"""`emolens eval`: score a model (the shipped one, an .onnx file or a checkpoint) on a FER2013 split."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from emolens.data import FaceDataset, available_splits
from emolens.errors import ModelFileError
from emolens.evaluate import (
    JITTER_KINDS,
    ClassificationMetrics,
    Predictor,
    ReliabilityBins,
    as_logits,
    classification_metrics,
    fit_temperature,
    is_checkpoint,
    jitter_images,
    load_predictor,
    nll,
    predict_with,
    reliability_bins,
    softmax,
)
from emolens.types import EMOTIONS

from .common import BAD_ROW_HELP, load_data
from .tables import format_table

log = logging.getLogger("emolens")

METRICS_FILE = "eval_metrics.json"
CONFUSION_FILE = "confusion_matrix.png"
RELIABILITY_FILE = "reliability.png"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="score a model on a FER2013 split", description=__doc__)
    p.add_argument(
        "model", metavar="MODEL", help="'fast' or 'accurate' (shipped models), an .onnx file or a checkpoint (.pt)"
    )
    p.add_argument("--data", required=True, help="fer2013.csv(.gz|.xz) or an image-folder tree")
    p.add_argument("--split", default="PrivateTest", choices=available_splits())
    p.add_argument("--tta", choices=["none", "flip"], default="none", help="flip: average with the mirrored face")
    p.add_argument(
        "--calibration",
        action="store_true",
        help="fit a temperature on PublicTest; report ECE before/after on --split, reliability PNG",
    )
    p.add_argument("--jitter", action="store_true", help="accuracy under detector-like crop jitter, one row per kind")
    p.add_argument("--seed", type=int, default=0, help="seed of --jitter")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON instead of tables")
    p.add_argument("--out", type=Path, help="folder for eval_metrics.json, confusion_matrix.png, reliability.png")
    p.add_argument("--on-bad-row", choices=["error", "skip"], default="error", help=BAD_ROW_HELP)
    p.add_argument("--no-cache", action="store_true", help="parse the csv again instead of the cache")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for inference")
    p.add_argument("--batch-size", type=int, default=256)
    p.set_defaults(run=run)


def resolve_model(name_or_path: str) -> Path:
    """'fast', 'accurate' -> a shipped model; a checkpoint or .onnx path -> itself."""
    path = Path(name_or_path)
    if path.suffix and is_checkpoint(path):
        if not path.is_file():
            raise ModelFileError(f"{path}: no such checkpoint")
        return path
    from emolens.runtime.models import model_path

    return model_path(name_or_path)


def run(args: argparse.Namespace) -> int:
    predictor = load_predictor(resolve_model(args.model), args.threads)
    dataset = load_data(args.data, args.on_bad_row, args.no_cache)
    test = dataset.split(args.split)
    if len(test) == 0:
        raise ValueError(f"{args.data}: the split {args.split} has no rows")
    log.info("%s (%s) on %s %s: %d faces", predictor.path, predictor.kind, args.data, args.split, len(test))
    probs = predict_with(predictor, test.images, args.tta, args.batch_size)
    scores = classification_metrics(test.labels, probs)
    report: dict[str, Any] = {
        "model": str(predictor.path),
        "kind": predictor.kind,
        "architecture": predictor.architecture,
        "data": str(args.data),
        "split": args.split,
        "tta": args.tta,
        "skipped_rows": len(dataset.skipped_rows),
        "skipped_files": len(dataset.skipped_files),
        **scores.to_dict(),
    }
    bins: tuple[ReliabilityBins, ReliabilityBins] | None = None
    if args.calibration:
        report["calibration"], bins = _calibration(predictor, dataset, test, probs, args)
    if args.jitter:
        report["jitter"] = _jitter(predictor, test, scores, args)
    if args.out:
        report["files"] = _write_outputs(args.out, report, scores, bins, args.split)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_tables(report, scores))
    return 0


def _calibration(
    predictor: Predictor, dataset: FaceDataset, test: FaceDataset, probs: np.ndarray, args: argparse.Namespace
) -> tuple[dict[str, Any], tuple[ReliabilityBins, ReliabilityBins]]:
    """Temperature fitted on PublicTest (never on the reported split), applied to `probs` of the test split."""
    val = dataset.split("PublicTest")
    if len(val) == 0:
        raise ValueError(f"{args.data}: no PublicTest (validation) rows to fit a temperature on")
    if args.split.startswith("PublicTest"):
        log.warning("--calibration: the temperature is fitted on PublicTest, so ECE on %s is optimistic", args.split)
    val_probs = predict_with(predictor, val.images, args.tta, args.batch_size)
    relative_t = fit_temperature(as_logits(val_probs), val.labels)
    calibrated = softmax(as_logits(probs), relative_t)
    before, after = reliability_bins(probs, test.labels), reliability_bins(calibrated, test.labels)
    summary = {
        "fitted_on": "PublicTest",
        "temperature_relative": round(relative_t, 4),
        # Temperatures compose: softmax(log softmax(z / T0) / T) == softmax(z / (T0 * T)).
        "temperature_for_export": round(predictor.temperature * relative_t, 4),
        "ece_before": round(before.ece, 6),
        "ece_after": round(after.ece, 6),
        "nll_before": round(nll(probs, test.labels), 6),
        "nll_after": round(nll(calibrated, test.labels), 6),
        "accuracy_after": round(classification_metrics(test.labels, calibrated).accuracy, 6),
    }
    return summary, (before, after)


def _jitter(
    predictor: Predictor, test: FaceDataset, clean: ClassificationMetrics, args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows = [{"kind": "none", "accuracy": round(clean.accuracy, 6), "macro_f1": round(clean.macro_f1, 6)}]
    for kinds in [(k,) for k in JITTER_KINDS] + [JITTER_KINDS]:
        jittered = jitter_images(test.images, kinds, seed=args.seed)
        scores = classification_metrics(test.labels, predict_with(predictor, jittered, args.tta, args.batch_size))
        name = "all" if len(kinds) > 1 else kinds[0]
        rows.append({"kind": name, "accuracy": round(scores.accuracy, 6), "macro_f1": round(scores.macro_f1, 6)})
    return rows


def _write_outputs(
    out: Path,
    report: dict[str, Any],
    scores: ClassificationMetrics,
    bins: tuple[ReliabilityBins, ReliabilityBins] | None,
    split: str,
) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    files = [METRICS_FILE]
    try:
        from emolens.reports import plot_confusion, plot_reliability

        plot_confusion(scores, out / CONFUSION_FILE, title=split)
        files.append(CONFUSION_FILE)
        if bins is not None:
            title = f"{split}, T fitted on PublicTest = {report['calibration']['temperature_relative']:.3f}"
            plot_reliability(bins[0], bins[1], out / RELIABILITY_FILE, title=title)
            files.append(RELIABILITY_FILE)
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'emolens[train]'); no PNGs written")
    (out / METRICS_FILE).write_text(json.dumps({**report, "files": files}, indent=2) + "\n")
    return files


def _tables(report: dict[str, Any], scores: ClassificationMetrics) -> str:
    parts = [
        f"model {report['model']} ({report['kind']}, {report['architecture'] or 'unknown architecture'})",
        f"data  {report['data']}  split {report['split']}  n {scores.n}  tta {report['tta']}",
        "",
        format_table(["metric", "value"], [["accuracy", scores.accuracy], ["macro-F1", scores.macro_f1]]),
        "",
        format_table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [name, float(scores.precision[i]), float(scores.recall[i]), float(scores.f1[i]), int(scores.support[i])]
                for i, name in enumerate(EMOTIONS)
            ],
        ),
        "",
        "confusion matrix (rows: true, columns: predicted)",
        format_table(
            ["true \\ pred", *EMOTIONS],
            [[name, *map(int, row)] for name, row in zip(EMOTIONS, scores.confusion, strict=True)],
        ),
    ]
    if "calibration" in report:
        c = report["calibration"]
        parts += [
            "",
            f"calibration (temperature fitted on PublicTest: {c['temperature_relative']:.4f} relative, "
            f"{c['temperature_for_export']:.4f} for `emolens export --temperature`)",
            format_table(
                ["", "ECE (15 bins)", "NLL"],
                [["before", c["ece_before"], c["nll_before"]], ["after", c["ece_after"], c["nll_after"]]],
            ),
        ]
    if "jitter" in report:
        base = report["jitter"][0]["accuracy"]
        parts += [
            "",
            "accuracy under detector-like jitter",
            format_table(
                ["jitter", "accuracy", "change", "macro-F1"],
                [[r["kind"], r["accuracy"], r["accuracy"] - base, r["macro_f1"]] for r in report["jitter"]],
            ),
        ]
    if "files" in report:
        parts += ["", "wrote " + ", ".join(report["files"])]
    return "\n".join(parts)
