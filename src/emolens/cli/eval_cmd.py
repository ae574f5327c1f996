"""`emolens eval`: score a model (the shipped one, an .onnx file or a checkpoint) on a FER2013 split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from emolens.data import ReadOptions
from emolens.evaluate import ClassificationMetrics, EvalOptions, evaluate_model
from emolens.types import EMOTIONS

from .common import add_field_flags, options_from_flags
from .tables import format_table


def add_parser(sub: Any) -> None:
    """Add `emolens eval` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("eval", help="score a model on a FER2013 split", description=__doc__)
    p.add_argument(
        "model", metavar="MODEL", help="'fast' or 'accurate' (shipped models), an .onnx file or a checkpoint (.pt)"
    )
    p.add_argument("--data", required=True, help="fer2013.csv(.gz|.xz) or an image-folder tree")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON instead of tables")
    p.add_argument("--out", type=Path, help="folder for eval_metrics.json, confusion_matrix.png, reliability.png")
    add_field_flags(p, EvalOptions)  # the rest are EvalOptions' fields: defaults, types and help written there
    add_field_flags(p, ReadOptions)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate a model on a split of FER2013 and print the report (tables, or JSON with --json).

    Args:
        args: the parsed flags.

    Returns:
        0.

    Raises:
        ModelFileError: If the model cannot be loaded.
        DataFormatError: If a row is malformed, with --on-bad-row error.
        FileNotFoundError: If the data file does not exist.
        ValueError: If the split has no rows or an option is out of range.
    """
    options = options_from_flags(EvalOptions, args, read=options_from_flags(ReadOptions, args))
    report = evaluate_model(args.model, args.data, options)
    if args.out:
        from emolens.report_files import write_eval_report

        report = write_eval_report(report, args.out)
    print(json.dumps(report.to_dict(), indent=2) if args.json else _tables(report.to_dict(), report.scores))
    return 0


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
