"""`emolens train`: fit a model on Training, choose its best epoch on PublicTest."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from emolens.data import LabelOptions, ReadOptions, attach_ferplus, load_data
from emolens.nn.config import AugmentConfig, TrainConfig

from .common import add_field_flags, field_values, options_from_flags

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    """Add `emolens train` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("train", help="train a model on FER2013", description=__doc__)
    p.add_argument("--data", required=True, help="fer2013.csv(.gz|.xz) or an image-folder tree")
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoints, log.csv, plots")
    # The recipe's flags: names, types, defaults and help come from TrainConfig's and AugmentConfig's fields.
    add_field_flags(p, TrainConfig)
    add_field_flags(p, AugmentConfig)
    add_field_flags(p, LabelOptions)  # --labels, --ferplus
    add_field_flags(p, ReadOptions)  # --on-bad-row, --no-cache: shared with emolens eval
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) a network on FER2013's Training split, choose the epoch on PublicTest, write reports.

    Args:
        args: the parsed flags.

    Returns:
        0.

    Raises:
        ValueError: If --labels ferplus-* lacks --ferplus, or the data has no PublicTest rows.
        DataFormatError: If the data cannot be read.
    """
    import torch

    from emolens.nn.train import resume_config, train

    from .progress import TrainProgress

    if args.threads:
        torch.set_num_threads(args.threads)
    out: Path = args.out
    resumed = resume_config(out, args.epochs) if args.resume else None
    if resumed is not None:
        cfg = resumed
    else:
        cfg = TrainConfig(**field_values(args, TrainConfig), augment=AugmentConfig(**field_values(args, AugmentConfig)))
    read, labels = options_from_flags(ReadOptions, args), options_from_flags(LabelOptions, args)
    dataset = load_data(args.data, read.on_bad_row, read.no_cache)
    if labels.labels != "fer":
        dataset = attach_ferplus(dataset, labels.ferplus, labels.labels.removeprefix("ferplus-"))
    train_set, val_set = dataset.split("Training"), dataset.split("PublicTest")
    if len(val_set) == 0:
        raise ValueError(f"{args.data}: no PublicTest (validation) rows to choose the best epoch on")
    log.info("Training %d rows, PublicTest %d rows", len(train_set), len(val_set))
    result = train(cfg, train_set, val_set, out, resume=args.resume, reporter=TrainProgress())
    log.info("best PublicTest accuracy %.4f at epoch %d; writing reports", result.best_val_acc, result.best_epoch)
    from emolens.report_files import training_report  # imported late: a long run picks up the current code

    metrics = training_report(out, val_set)
    log.info("wrote %s", ", ".join(sorted(metrics["files"])))
    return 0
