"""What a training run leaves behind besides checkpoints: metrics.json and plots.

Everything here scores PublicTest, the split the run chose its epoch on; PrivateTest is for
`emolens eval` on the final model only. Plots use matplotlib's object API with the Agg canvas,
so nothing touches pyplot's global state or a display.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emolens.data.dataset import FaceDataset
from emolens.errors import DataFormatError
from emolens.evaluate import ClassificationMetrics, EvalReport, ReliabilityBins, classification_metrics, predict_probs
from emolens.types import EMOTIONS

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
EVAL_METRICS_FILE = "eval_metrics.json"
RELIABILITY_FILE = "reliability.png"
CONFUSION_FILE = "confusion_matrix.png"
CURVES_FILE = "training_curves.png"


def training_report(run_dir: Path, val_set: FaceDataset) -> dict[str, Any]:
    """Score `run_dir/best.pt` on `val_set` (PublicTest) and write metrics.json, confusion_matrix.png
    and training_curves.png into `run_dir`; returns the metrics with "files": the names written.

    Without matplotlib the plots are skipped with a warning; metrics.json is always written. Needs torch.

    Args:
        run_dir: A training run's folder, holding best.pt and (for the curves) log.csv.
        val_set: The PublicTest split the run selected its epoch on.

    Returns:
        What metrics.json holds: split, architecture, best_epoch, epochs_run, PublicTest_acc, the
        `ClassificationMetrics.to_dict` fields, and "files".

    Raises:
        ModelFileError: If best.pt is missing or not an emolens checkpoint.
        DataFormatError: If log.csv is malformed.
    """
    from emolens.nn.checkpoint import load_checkpoint

    run_dir = Path(run_dir)
    state = load_checkpoint(run_dir / "best.pt")
    # Through evaluate's predictor, as `emolens eval` scores a checkpoint; threads=0 keeps torch's own setting.
    probs = predict_probs(run_dir / "best.pt", val_set.images, threads=0)
    scores = classification_metrics(val_set.labels, probs)
    rows = read_training_log(run_dir / "log.csv")

    metrics: dict[str, Any] = {
        "split": "PublicTest",
        "architecture": state["config"].get("model", ""),
        "best_epoch": int(state.get("best_epoch", state.get("epoch", 0))),
        "epochs_run": int(rows[-1]["epoch"]) if rows else None,
        "PublicTest_acc": round(scores.accuracy, 6),
        **scores.to_dict(),
    }
    files = [METRICS_FILE]
    try:
        plot_confusion(scores, run_dir / CONFUSION_FILE, title=f"PublicTest, epoch {metrics['best_epoch']}")
        files.append(CONFUSION_FILE)
        if rows:
            plot_training_curves(rows, run_dir / CURVES_FILE)
            files.append(CURVES_FILE)
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'emolens[train]'); no plots written")
    metrics["files"] = files
    (run_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def read_training_log(path: Path) -> list[dict[str, float]]:
    """Rows of log.csv as floats, one per epoch; a resumed run may repeat an epoch, the last row wins.

    Args:
        path: The run's log.csv; a missing file is logged and gives no rows.

    Returns:
        One dict of column -> value per epoch, in epoch order.

    Raises:
        DataFormatError: If a value is not a number or there is no epoch column.
    """
    if not path.exists():
        log.warning("%s: no training log; no curves", path)
        return []
    by_epoch: dict[int, dict[str, float]] = {}
    with open(path, newline="") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            try:
                parsed = {k: float(v) for k, v in row.items() if k is not None}
            except (TypeError, ValueError):
                raise DataFormatError(str(path), line_no, "a value is not a number") from None
            if "epoch" not in parsed:
                raise DataFormatError(str(path), 1, "no epoch column")
            by_epoch[int(parsed["epoch"])] = parsed
    return [by_epoch[e] for e in sorted(by_epoch)]


# --- plots (matplotlib imported lazily: it is in the `train` extra only) ----------------------------


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def plot_confusion(
    scores: ClassificationMetrics, path: Path, title: str = "", labels: Sequence[str] = EMOTIONS
) -> Path:
    """Confusion matrix normalised by row (recall on the diagonal), with the raw counts printed.

    Args:
        scores: The metrics whose confusion matrix is drawn; accuracy and macro-F1 go in the title.
        path: The image file to write (PNG by its suffix).
        title: Put before the accuracy and macro-F1 in the title.
        labels: Class names for the axes, in the matrix's order.

    Returns:
        `path`.

    Raises:
        ImportError: If matplotlib is not installed (it is in the `train` extra).
    """
    cm = scores.confusion
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)
    fig = _figure(6.4, 5.6)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            colour = "white" if norm[i, j] > 0.6 else "black"
            ax.text(j, i, f"{norm[i, j]:.2f}\n{cm[i, j]}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}  acc {scores.accuracy:.4f}, macro-F1 {scores.macro_f1:.4f}".strip())
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_training_curves(rows: Sequence[dict[str, float]], path: Path) -> Path:
    """Loss and accuracy per epoch, Training against PublicTest.

    Args:
        rows: Epoch rows as `read_training_log` returns them, with epoch, train_loss, val_loss,
            train_acc and val_acc; the best val_acc epoch is marked.
        path: The image file to write.

    Returns:
        `path`.

    Raises:
        ImportError: If matplotlib is not installed.
        KeyError: If a row lacks one of the columns above.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in rows]
    fig = _figure(10.0, 4.0)
    for k, (metric, name) in enumerate((("loss", "loss"), ("acc", "accuracy"))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.plot(epochs, [r[f"train_{metric}"] for r in rows], marker=".", label="Training")
        ax.plot(epochs, [r[f"val_{metric}"] for r in rows], marker=".", label="PublicTest")
        if metric == "acc":
            best = max(rows, key=lambda r: r["val_acc"])
            ax.axvline(best["epoch"], color="grey", linestyle=":", label=f"best epoch {int(best['epoch'])}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_reliability(before: ReliabilityBins, after: ReliabilityBins | None, path: Path, title: str = "") -> Path:
    """Reliability diagram: accuracy against confidence per bin, before (and after) temperature scaling.

    Empty bins are not drawn.

    Args:
        before: The bins of the uncalibrated probabilities.
        after: The bins after temperature scaling, or None to draw `before` alone.
        path: The image file to write.
        title: The plot's title.

    Returns:
        `path`.

    Raises:
        ImportError: If matplotlib is not installed.
    """
    fig = _figure(5.6, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for bins, name in ((before, "before"), (after, "after")):
        if bins is None:
            continue
        used = bins.count > 0
        ax.plot(bins.confidence[used], bins.accuracy[used], marker="o", label=f"{name}: ECE {bins.ece:.4f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    return path


def write_eval_report(report: EvalReport, out_dir: Path) -> EvalReport:
    """eval_metrics.json and, where matplotlib is installed, the confusion matrix and reliability PNGs.

    The reliability PNG is written only when the report carries a calibration.

    Args:
        report: The evaluation, from `emolens.evaluate.evaluate_model`.
        out_dir: The folder to write into; created when missing, files of the same names replaced.

    Returns:
        The report with `files`, the names written.

    Raises:
        OSError: If the folder or a file cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [EVAL_METRICS_FILE]
    try:
        plot_confusion(report.scores, out_dir / CONFUSION_FILE, title=report.split)
        files.append(CONFUSION_FILE)
        if report.reliability is not None and report.calibration is not None:
            title = f"{report.split}, T fitted on PublicTest = {report.calibration.temperature_relative:.3f}"
            plot_reliability(*report.reliability, out_dir / RELIABILITY_FILE, title=title)
            files.append(RELIABILITY_FILE)
    except ImportError:
        log.warning("matplotlib is not installed (pip install 'emolens[train]'); no PNGs written")
    written = dataclasses.replace(report, files=tuple(files))
    (out_dir / EVAL_METRICS_FILE).write_text(json.dumps(written.to_dict(), indent=2) + "\n")
    return written
