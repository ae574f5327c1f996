"""The `emolens` command: argument parsing, logging set-up and progress bars live here only."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from emolens.errors import EmolensError

from . import analyze_cmd, batch_cmd, eval_cmd, export_cmd, recipe_cmd, serve_cmd, train_cmd, video_cmd, webcam_cmd
from .common import missing_extra_message

#: In the order people use them: the everyday commands first, then the ones that make a model.
COMMANDS = [analyze_cmd, video_cmd, webcam_cmd, serve_cmd, batch_cmd, train_cmd, eval_cmd, export_cmd, recipe_cmd]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the commands' own paragraphs and adds each option's default to its help, where it has one
    worth showing (not for flags, and not where the help already names it)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        quiet = (None, False, argparse.SUPPRESS)
        if "default" in help_text or action.default in quiet or not action.option_strings:
            return help_text
        return help_text + " (default: %(default)s)"


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
    """The `emolens` parser with every command of COMMANDS; each sets `run` to the function that carries it out.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="emolens",
        description="Facial emotion recognition, offline, on a CPU.",
        epilog="`emolens COMMAND --help` describes each command.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action=_VersionAction, help="the version and the face detector auto picks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    for command in sub.choices.values():
        command.formatter_class = HelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `emolens` command: parse, set up logging, run the command; its expected errors become one line.

    Args:
        argv: the arguments after the program name; None reads sys.argv.

    Returns:
        The exit status: the command's own, 2 for an error it reported (an optional package it needs missing
        included), 130 when interrupted.
    """
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
    except ModuleNotFoundError as err:
        message = missing_extra_message(args.command, err)
        if message is None:
            raise
        print(f"emolens: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emolens: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
