"""`emolens recipe`: a pointer only. The GPU training recipe moved out of the package, to training/ in the
repository (`python -m emolens_recipe`, run by scripts/train-on-device.sh); an old command line gets one line
saying where, not argparse's "invalid choice"."""

from __future__ import annotations

import argparse
import sys
from typing import Any

MOVED = (
    "emolens recipe moved out of the emolens package: in a checkout, run `bash scripts/train-on-device.sh "
    "pack|plan|run` (or `PYTHONPATH=src:training python -m emolens_recipe`); see training/README.md"
)


def add_parser(sub: Any) -> None:
    """Add the hidden `recipe` pointer (no help line, so `emolens --help` does not list it).

    Args:
        sub: the subparsers of `emolens`.
    """
    # No option prefix: every word after `recipe` (--help, --pack ...) is taken in, and the pointer answers all.
    p = sub.add_parser("recipe", description=MOVED, add_help=False, prefix_chars="\0")
    p.add_argument("rest", nargs="*", help="ignored")
    p.set_defaults(run=run_moved)


def run_moved(args: argparse.Namespace) -> int:
    """Say where the recipe went.

    Args:
        args: the parsed arguments (ignored).

    Returns:
        2, as for any command line emolens cannot carry out.
    """
    print(f"emolens: error: {MOVED}", file=sys.stderr)
    return 2
