"""`emolens export`: a training checkpoint -> an .onnx model with its metadata, checked against torch."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("emolens")

#: Largest |onnxruntime - torch| difference of the output probabilities that still counts as the same model.
PARITY_TOLERANCE = 1e-4


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export a checkpoint to ONNX", description=__doc__)
    p.add_argument("checkpoint", metavar="CHECKPOINT", type=Path, help="best.pt or last.pt of a training run")
    p.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="softmax temperature baked into the model (see `emolens eval --calibration`)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from emolens.nn.export import export_onnx

    if args.temperature <= 0:
        raise ValueError(f"--temperature must be positive, got {args.temperature}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    report = export_onnx(args.checkpoint, args.out, temperature=args.temperature)
    print(f"wrote {report.path} ({report.size_bytes / 1e6:.2f} MB, {report.size_bytes} bytes)")
    print(f"max |onnxruntime - torch| = {report.max_abs_diff:.2e} (tolerance {PARITY_TOLERANCE:.0e})")
    if report.max_abs_diff > PARITY_TOLERANCE:
        print(f"emolens: error: {report.path}: onnxruntime and torch disagree beyond the tolerance", file=sys.stderr)
        return 1
    return 0
