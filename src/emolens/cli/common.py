"""Helpers shared by the subcommands: the flags of the commands that run a model or draw, OpenCV's quiet mode."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from emolens.errors import EmolensError

if TYPE_CHECKING:
    from emolens.api import RecognizerOptions
    from emolens.render import RenderOptions

log = logging.getLogger("emolens")
T = TypeVar("T")
#: The optional packages the commands import, by import name, and the extra of pyproject.toml that installs each
#: (tests/cli/test_missing_packages.py holds the two to agree): a command that meets one missing says which extra
#: to install, in one line.
EXTRA_OF_MODULE: dict[str, str] = {
    "torch": "train",
    "onnx": "train",
    "onnxscript": "train",
    "matplotlib": "train",
    "fastapi": "web",
    "uvicorn": "web",
    "gradio": "web",
    "multipart": "web",
    "pyarrow": "batch",
    "ray": "scale",
}


def missing_extra_message(command: str, err: ModuleNotFoundError) -> str | None:
    """The one line for a command that needs an optional package that is not installed, else None.

    Args:
        command: the `emolens` command that was running (train, export, ...).
        err: the error its import raised.

    Returns:
        Which package is missing and the `pip install` that brings it, for a package of EXTRA_OF_MODULE;
        None for any other module (a broken installation, a bug), whose error should not be hidden.
    """
    module = (err.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return f"emolens {command} needs {module}, which is not installed: pip install 'emolens[{extra}]'"


def add_recognizer_args(p: argparse.ArgumentParser, *, video: bool, labels: bool = True) -> None:
    """The flags of every command that runs the model (analyze, video, webcam, serve, batch), added in one place.

    They are generated from the fields of `RecognizerOptions` (and, for video, `PipelineOptions`) that carry help
    in their metadata: names, types, defaults and help are written there once.

    Args:
        p: the subcommand's parser.
        video: also add the options of consecutive frames (`--detect-every`, `--no-smooth`).
        labels: also add `--lang`, for the commands that show emotion names to people; a command that only
            writes data (batch's Parquet) keeps the English names, as JSON does, and offers no --lang.
    """
    from emolens.api import RecognizerOptions
    from emolens.labels import DEFAULT_LANG, LANGUAGES
    from emolens.runtime.pipeline import PipelineOptions

    if labels:
        p.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANG, help="language of the labels shown")
    add_field_flags(p, RecognizerOptions)
    if video:
        add_field_flags(p, PipelineOptions)


def recognizer_options(args: argparse.Namespace, **extra: Any) -> RecognizerOptions:
    """`RecognizerOptions` from the flags `add_recognizer_args` added; `extra` sets fields it has no flag for.

    Args:
        args: the parsed flags.
        **extra: RecognizerOptions or PipelineOptions fields without a shared flag (analyze's whole_image).

    Returns:
        The options; the video flags are read only where the command has them.

    Raises:
        ValueError: a value is out of range (the message names the option).
        TypeError: `extra` names no option.
    """
    from emolens.api import RecognizerOptions
    from emolens.runtime.pipeline import PipelineOptions

    values = field_values(args, RecognizerOptions)
    if hasattr(args, "detect_every"):
        values.update(field_values(args, PipelineOptions))
    with flags_named(RecognizerOptions, PipelineOptions):
        return RecognizerOptions.from_flat(**values, **extra)


def options_from_flags(config_class: type[T], args: argparse.Namespace, **extra: Any) -> T:
    """`config_class` from the values of the flags `add_field_flags` added for it, plus `extra`.

    Args:
        config_class: the options dataclass.
        args: the parsed flags.
        **extra: fields without a flag of their own (a nested dataclass, say).

    Returns:
        The options.

    Raises:
        ValueError: a value the dataclass refuses, the message starting with the flag the user typed
            ("--timeout-s must be a positive finite number, got 0.0").
    """
    with flags_named(config_class):
        return config_class(**field_values(args, config_class), **extra)


@contextlib.contextmanager
def flags_named(*config_classes: type[Any]) -> Iterator[None]:
    """Inside the block, a ValueError that starts with a field's name (as the dataclasses' checks write them)
    starts with that field's flag instead: the user typed the flag, not the field.

    Args:
        config_classes: the dataclasses whose flags were given.

    Yields:
        Nothing.

    Raises:
        ValueError: the one raised in the block, the field's name replaced by its flag.
    """
    try:
        yield
    except ValueError as err:
        name, _, rest = str(err).partition(" ")
        flags = {field: flag for c in config_classes for field, flag in field_flags(c).items()}
        if name not in flags:
            raise
        raise ValueError(f"{flags[name]} {rest}") from None


def add_field_flags(p: argparse.ArgumentParser | Any, config_class: type[Any]) -> None:
    """A flag for each field of the dataclass `config_class` whose metadata has "help": its name (or metadata
    "flag"), type and default are the field's, so no default is typed twice (`emolens.nn.config` describes the
    metadata).

    A bool field that defaults to True gets `--no-NAME`; a list or tuple field a repeatable flag; "path" fields
    take paths (kept as strings in the dataclass), "json" fields a JSON text; a field whose default is None names
    its flag's type in metadata "type".

    Args:
        p: the parser or argument group.
        config_class: the dataclass.
    """
    for f in dataclasses.fields(config_class):
        meta = f.metadata
        if "help" not in meta:
            continue
        default = _field_default(f)
        flag = meta.get("flag", "--" + f.name.replace("_", "-"))
        metavar = meta.get("metavar", flag.removeprefix("--").replace("-", "_").upper())
        if isinstance(default, bool):
            p.add_argument(flag, dest=f"flag_{f.name}", action="store_true", help=meta["help"])
        elif isinstance(default, (list, tuple)):
            item = Path if meta.get("path") else str
            p.add_argument(
                flag, dest=f.name, action="append", default=[], type=item, metavar=metavar, help=meta["help"]
            )
        elif meta.get("json"):
            p.add_argument(flag, dest=f.name, type=json.loads, default=default, metavar=metavar, help=meta["help"])
        else:
            kind = meta.get("type") or (Path if meta.get("path") else type(default))
            shown = None if default == "" else default  # an empty default is no default
            choices = meta.get("choices")
            p.add_argument(
                flag, dest=f.name, type=kind, default=shown, choices=choices, metavar=None if choices else metavar,
                help=meta["help"],
            )  # fmt: skip


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise ValueError(f"{f.name}: a field with a flag needs a default")


def field_values(args: argparse.Namespace, config_class: type[Any]) -> dict[str, Any]:
    """The values of the flags `add_field_flags` added for `config_class`, as its keyword arguments.

    Args:
        args: the parsed flags.
        config_class: the dataclass.

    Returns:
        Field name -> value, for every field that has a flag.
    """
    values: dict[str, Any] = {}
    for f in dataclasses.fields(config_class):
        if "help" not in f.metadata:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            value: Any = default != getattr(args, f"flag_{f.name}")  # the flag turns the default over
        else:
            value = getattr(args, f.name)
        if f.metadata.get("path"):
            value = [str(v) for v in value] if isinstance(value, list) else (str(value) if value else "")
        if isinstance(default, tuple):
            value = tuple(value)
        values[f.name] = value
    return values


def field_flags(config_class: type[Any]) -> dict[str, str]:
    """The flag `add_field_flags` gives each field of `config_class`, by field name: what a message about a value
    the dataclass refused names, since the user typed the flag, not the field.

    Args:
        config_class: the dataclass.

    Returns:
        Field name -> flag (e.g. "request_timeout_s" -> "--timeout-s"), for every field that has a flag.
    """
    return {
        f.name: f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        for f in dataclasses.fields(config_class)
        if "help" in f.metadata
    }


def add_render_args(p: argparse.ArgumentParser) -> None:
    """The flags of every command that draws results on pictures (analyze --out, video --out, webcam), added in one
    place; their defaults are read from `RenderOptions`, never retyped here.

    Args:
        p: the subcommand's parser.
    """
    from emolens.render import RenderOptions

    p.add_argument(
        "--labels-only",
        action="store_true",
        default=RenderOptions.labels_only,
        help="draw each face's box and numbered label only, no probability panel beside it (the web app's "
        "'labels only' box)",
    )


def render_options(args: argparse.Namespace) -> RenderOptions:
    """`RenderOptions` from the flags `add_render_args` added.

    Args:
        args: the parsed flags.

    Returns:
        The drawing options.
    """
    from emolens.render import RenderOptions

    return RenderOptions(labels_only=args.labels_only)


def writable_folder(folder: Path, flag: str, shown: Path | None = None) -> None:
    """Create `folder` if needed and prove it takes a file; EmolensError naming `flag` in one line otherwise.

    A real probe file rather than os.access: root passes os.access on read-only mounts and /proc.

    Args:
        folder: the folder to create and probe.
        flag: the command-line flag that named it, for the message.
        shown: the path the user gave, when it differs from `folder` (a file's parent).

    Raises:
        EmolensError: If the path is a file, or the folder cannot be made or written in.
    """
    shown = shown or folder
    if folder.exists() and not folder.is_dir():
        raise EmolensError(f"{flag} {shown}: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise EmolensError(f"{flag} {shown}: cannot write in {folder} ({err.strerror or err})") from None


def writable_file(path: Path, flag: str) -> None:
    """EmolensError in one line, before any work, if `path` cannot be written (see writable_folder).

    Args:
        path: the output file; its folder is created if needed.
        flag: the command-line flag that named it, for the message.

    Raises:
        EmolensError: If `path` is a folder, or its folder cannot be made or written in.
    """
    if path.is_dir():
        raise EmolensError(f"{flag} {path}: is a folder; give a file name")
    writable_folder(path.parent, flag, path)


def quiet_opencv(args: argparse.Namespace) -> None:
    """OpenCV and its FFmpeg print warnings (damaged file, absent camera) straight to stderr; the commands
    report such problems in one line themselves, so those stay quiet unless --verbose.

    Args:
        args: the parsed flags; only `verbose` is read.
    """
    if not getattr(args, "verbose", False):
        import cv2

        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read when the first video is opened
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
