"""`emolens export`: a training checkpoint -> an .onnx model with its metadata, checked against torch."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from emolens.nn.config import ExportOptions

from .common import add_field_flags, options_from_flags

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    """Add `emolens export` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("export", help="export a checkpoint to ONNX", description=__doc__)
    p.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        type=Path,
        nargs="+",
        help="best.pt or last.pt of a training run; several: one model that averages them (an ensemble)",
    )
    p.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    p.add_argument(
        "--int8",
        action="store_true",
        help="also quantise to int8 (about 3x faster on CPUs with VNNI); needs --data for calibration faces",
    )
    p.add_argument("--data", help="fer2013.csv(.gz|.xz) or image folders: Training faces calibrate, PublicTest checks")
    p.add_argument("--float-out", type=Path, help="with --int8: also keep the float32 model at this path")
    add_field_flags(p, ExportOptions)  # --tta, --temperature, --threads, --calibration-faces: ExportOptions' fields
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export checkpoints to ONNX (optionally int8) and print the parity check against torch.

    Args:
        args: the parsed flags.

    Returns:
        0, or 1 when onnxruntime and torch disagree beyond PARITY_TOLERANCE.

    Raises:
        ValueError: If --temperature is not positive, or --int8 is given without --data.
        ModelFileError: If a checkpoint is missing or unreadable.
    """
    import torch

    from emolens.nn.export import export_onnx

    options = options_from_flags(ExportOptions, args)
    if options.threads > 0:
        torch.set_num_threads(options.threads)
    if args.int8 and not args.data:
        raise ValueError("--int8 needs --data (Training faces to calibrate on, PublicTest faces to check on)")
    out: Path = args.out
    if not args.int8:
        return _check(export_onnx(args.checkpoint, out, temperature=options.temperature, tta=options.tta))
    with tempfile.TemporaryDirectory() as tmp:
        float_out: Path = args.float_out or Path(tmp) / "float32.onnx"
        status = _check(export_onnx(args.checkpoint, float_out, temperature=options.temperature, tta=options.tta))
        return status or _quantize(args.data, options.calibration_faces, float_out, out)


def _check(report: Any) -> int:
    from emolens.nn.export import PARITY_TOLERANCE

    print(f"wrote {report.path} ({report.size_bytes / 1e6:.2f} MB, {report.size_bytes} bytes)")
    print(f"max |onnxruntime - torch| = {report.max_abs_diff:.2e} (tolerance {PARITY_TOLERANCE:.0e})")
    if report.max_abs_diff > PARITY_TOLERANCE:
        print(f"emolens: error: {report.path}: onnxruntime and torch disagree beyond the tolerance", file=sys.stderr)
        return 1
    return 0


def _quantize(data: str, calibration_faces: int, float_out: Path, out: Path) -> int:
    from emolens.data import load_data
    from emolens.nn.export import int8_calibration_inputs, quantize_int8

    calibration, check = int8_calibration_inputs(load_data(data), calibration_faces)
    report = quantize_int8(float_out, out, calibration, check)
    print(
        f"wrote {report.path} ({report.size_bytes / 1e6:.2f} MB, int8, calibrated on {len(calibration)} Training faces)"
    )
    print(
        f"int8 vs float32 on {len(check)} PublicTest faces: same top emotion {report.top1_agreement:.2%}, "
        f"max |probability difference| {report.max_abs_diff:.3f}"
    )
    return 0
