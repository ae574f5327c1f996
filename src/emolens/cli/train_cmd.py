"""`emolens train`: fit a model on Training, choose its best epoch on PublicTest."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from emolens.data import attach_ferplus, load_data

from .common import BAD_ROW_HELP

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    """Add `emolens train` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("train", help="train a model on FER2013", description=__doc__)
    p.add_argument("--data", required=True, help="fer2013.csv(.gz|.xz) or an image-folder tree")
    p.add_argument("--model", default="resnet_s", help="architecture name (see emolens.nn.MODELS)")
    p.add_argument("--model-kwargs", default="{}", help="JSON, e.g. '{\"width\": 48}'")
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoints, log.csv, plots")
    p.add_argument("--epochs", type=int, default=60, help="most epochs to train (early stopping may end sooner)")
    p.add_argument("--batch-size", type=int, default=128, help="faces per training step")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd", help="SGD with Nesterov momentum, or AdamW")
    p.add_argument("--lr", type=float, default=0.05, help="peak learning rate, after warm-up")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay")
    p.add_argument(
        "--label-smoothing", type=float, default=0.1, help="share of each target spread over the other classes"
    )
    p.add_argument("--mixup", type=float, default=0.0, help="mixup alpha; 0 turns it off")
    p.add_argument("--cutmix", type=float, default=0.0, help="cutmix alpha; 0 turns it off (not with --mixup)")
    p.add_argument(
        "--blur-p",
        type=float,
        help="share of training faces blurred like a detector's soft crops; default: the recipe's (0.5); "
        "0: the recipe before blur augmentation",
    )
    p.add_argument(
        "--teacher",
        action="append",
        default=[],
        type=Path,
        help="distil from this checkpoint (repeat for an ensemble of teachers); needs --distill-weight",
    )
    p.add_argument("--distill-weight", type=float, default=0.0, help="share of the loss from the teachers, 0-1")
    p.add_argument("--distill-temperature", type=float, default=2.0, help="softening temperature for distillation")
    p.add_argument(
        "--init", type=Path, help="start from this checkpoint's weights (same --model), with a fresh schedule"
    )
    p.add_argument("--warmup-epochs", type=int, default=2, help="linear learning-rate warm-up, in epochs")
    p.add_argument("--patience", type=int, default=20, help="early stopping, in epochs")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, shuffling and augmentation")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--no-bf16", action="store_true", help="train in float32 only")
    p.add_argument(
        "--labels",
        choices=["fer", "ferplus-soft", "ferplus-majority"],
        default="fer",
        help="FER2013 labels, or FER+ votes (with --ferplus) as soft or majority labels",
    )
    p.add_argument("--ferplus", help="fer2013new.csv, needed for --labels ferplus-*")
    p.add_argument("--on-bad-row", choices=["error", "skip"], default="error", help=BAD_ROW_HELP)
    p.add_argument("--no-cache", action="store_true", help="parse the csv again instead of the cache")
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

    from emolens.nn.augment import AugmentConfig
    from emolens.nn.train import TrainConfig, resume_config, train

    from .progress import TrainProgress

    if args.threads:
        torch.set_num_threads(args.threads)
    out: Path = args.out
    resumed = resume_config(out, args.epochs) if args.resume else None
    if resumed is not None:
        cfg = resumed
    else:
        cfg = TrainConfig(
            model=args.model,
            model_kwargs=json.loads(args.model_kwargs),
            epochs=args.epochs,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            lr=args.lr,
            weight_decay=args.weight_decay,
            label_smoothing=args.label_smoothing,
            mixup_alpha=args.mixup,
            cutmix_alpha=args.cutmix,
            init_from=str(args.init) if args.init else "",
            warmup_epochs=args.warmup_epochs,
            patience=args.patience,
            seed=args.seed,
            device=args.device,
            bf16=not args.no_bf16,
            augment=AugmentConfig() if args.blur_p is None else AugmentConfig(blur_p=args.blur_p),
            teachers=[str(t) for t in args.teacher],
            distill_weight=args.distill_weight,
            distill_temperature=args.distill_temperature,
        )
    dataset = load_data(args.data, args.on_bad_row, args.no_cache)
    if args.labels != "fer":
        if not args.ferplus:
            raise ValueError("--labels ferplus-* needs --ferplus PATH/fer2013new.csv")
        dataset = attach_ferplus(dataset, args.ferplus, args.labels.removeprefix("ferplus-"))
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
