"""`emolens recipe`: pack the data for a GPU machine, plan the run, and run it there (scripts/train-on-device.sh)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("emolens")


def add_parser(sub: Any) -> None:
    """Add `recipe pack` and `recipe run` to the command's subparsers.

    Args:
        sub: the subparsers of `emolens`.
    """
    p = sub.add_parser("recipe", help="the GPU training recipe: pack, plan, run", description=__doc__)
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")

    pack = steps.add_parser("pack", help="Training + PublicTest faces and FER+ votes in one small file")
    pack.add_argument("--data", required=True, type=Path, help="fer2013.csv(.gz|.xz)")
    pack.add_argument("--ferplus", type=Path, help="fer2013new.csv: FER+ votes, aligned with the csv's rows")
    pack.add_argument("--out", required=True, type=Path, help="the .npz to write (keep it out of git)")
    pack.set_defaults(run=run_pack)

    go = steps.add_parser("run", help="plan, train teachers and students, export and score (or --plan-only)")
    go.add_argument("--pack", required=True, type=Path, help="the file `emolens recipe pack` wrote")
    go.add_argument(
        "--workdir",
        type=Path,
        default=Path("runs/device"),
        help="runs and exports, kept between calls (default: runs/device)",
    )
    go.add_argument(
        "--out",
        type=Path,
        default=Path("runs/device-out"),
        help="models, metrics.json, recipe.log, state.tar (default: runs/device-out)",
    )
    go.add_argument("--config", type=Path, help="JSON of RecipeConfig settings (networks, epochs, budget)")
    go.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    go.add_argument("--budget-s", type=float, help="wall seconds for the whole call (default: the config's)")
    go.add_argument(
        "--plan-only",
        action="store_true",
        help="measure each network and print the plan; on a CPU, the plan for a GPU (estimated)",
    )
    go.add_argument("--state", type=Path, help="state.tar of an earlier call, to continue on a fresh machine")
    go.set_defaults(run=run_recipe)


def run_pack(args: argparse.Namespace) -> int:
    """`emolens recipe pack`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from emolens.data.pack import pack_fer

    report = pack_fer(args.data, args.ferplus, args.out)
    votes = "with FER+ votes" if report.with_votes else "without FER+ votes"
    print(f"wrote {report.path}: {report.rows} faces {votes}, {report.size_bytes / 2**20:.1f} MiB")
    return 0


def run_recipe(args: argparse.Namespace) -> int:
    """`emolens recipe run`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status: 0 done, 3 out of time (the same command continues).
    """
    from emolens.nn.budget import format_plan
    from emolens.nn.recipe import RecipeConfig
    from emolens.recipe import run_recipe as run

    cfg = RecipeConfig.from_dict(json.loads(args.config.read_text())) if args.config else RecipeConfig()
    if args.budget_s is not None:
        cfg = RecipeConfig.from_dict({**cfg.to_dict(), "budget_s": args.budget_s})
    if not args.plan_only:
        args.out.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(args.out / "recipe.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
    result = run(args.pack, args.workdir, args.out, cfg, args.device, args.plan_only, args.state)
    print(format_plan(result.plan))
    for name, path in result.models.items():
        print(f"{name}: {path}")
    if not result.complete:
        print("out of time: run the same command again to continue")
        return 3
    return 0
