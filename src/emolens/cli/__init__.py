"""The `emolens` command: argument parsing, logging set-up and progress bars live here only."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from emolens.errors import EmolensError

from . import analyze_cmd, batch_cmd, eval_cmd, export_cmd, serve_cmd, train_cmd, video_cmd, webcam_cmd

COMMANDS = [train_cmd, eval_cmd, export_cmd, serve_cmd, analyze_cmd, video_cmd, webcam_cmd, batch_cmd]


class _VersionAction(argparse.Action):
    """--version: the package's version and the face detector `--detector auto` runs on this machine."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from emolens import __version__
        from emolens.runtime.detectors import describe_detector

        print(f"emolens {__version__}\nface detector (--detector auto): {describe_detector('auto')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emolens", description="Facial emotion recognition, offline, on a CPU.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action=_VersionAction, help="the version and the face detector auto picks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args) or 0)
    except (EmolensError, FileNotFoundError, ValueError) as err:
        print(f"emolens: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emolens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
