"""`python -m emolens_recipe`: pack the data for a GPU machine, plan the run, and run it there.

scripts/train-on-device.sh is the usual way in (it sets PYTHONPATH to `src` and `training`); see training/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from emolens.errors import EmolensError


def build_parser() -> argparse.ArgumentParser:
    """The recipe's command line: `pack` and `run`.

    Returns:
        The parser; each step sets `run` to the function that carries it out.
    """
    p = argparse.ArgumentParser(
        prog="python -m emolens_recipe",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")

    pack = steps.add_parser("pack", help="Training + PublicTest faces and FER+ votes in one small file")
    pack.add_argument("--data", required=True, type=Path, help="fer2013.csv(.gz|.xz)")
    pack.add_argument("--ferplus", type=Path, help="fer2013new.csv: FER+ votes, aligned with the csv's rows")
    pack.add_argument("--out", required=True, type=Path, help="the .npz to write (keep it out of git)")
    pack.set_defaults(run=run_pack)

    go = steps.add_parser("run", help="plan, train teachers and students, export and score (or --plan-only)")
    go.add_argument("--pack", required=True, type=Path, help="the file `python -m emolens_recipe pack` wrote")
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
    return p


def run_pack(args: argparse.Namespace) -> int:
    """`python -m emolens_recipe pack`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from .pack import pack_fer

    report = pack_fer(args.data, args.ferplus, args.out)
    votes = "with FER+ votes" if report.with_votes else "without FER+ votes"
    print(f"wrote {report.path}: {report.rows} faces {votes}, {report.size_bytes / 2**20:.1f} MiB")
    return 0


def run_recipe(args: argparse.Namespace) -> int:
    """`python -m emolens_recipe run`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status: 0 done, 3 out of time (the same command continues).
    """
    from .budget import format_plan
    from .run import run_recipe as run
    from .stages import RecipeConfig

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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, set up logging as `emolens` does, run the step; expected errors become one line.

    Args:
        argv: the arguments after the program name; None reads sys.argv.

    Returns:
        The exit status: the step's own, 2 for an error it reported, 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.run(args) or 0)
    except (EmolensError, FileNotFoundError, ValueError) as err:
        print(f"emolens_recipe: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emolens_recipe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
