"""Helpers shared by the subcommands: the flags of the commands that run a model or draw, OpenCV's quiet mode."""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emolens.errors import EmolensError

if TYPE_CHECKING:
    from emolens.api import RecognizerOptions
    from emolens.render import RenderOptions

log = logging.getLogger("emolens")
BAD_ROW_HELP = (
    "a malformed csv row or unreadable image file: stop, naming it (error), or leave it out and log it (skip)"
)


def add_recognizer_args(p: argparse.ArgumentParser, *, video: bool, labels: bool = True) -> None:
    """The flags of every command that runs the model (analyze, video, webcam, serve, batch), added in one place.

    Their defaults are read from `RecognizerOptions` (and through it `PipelineOptions`), never retyped here.

    Args:
        p: the subcommand's parser.
        video: also add the options of consecutive frames (`--detect-every`, `--no-smooth`).
        labels: also add `--lang`, for the commands that show emotion names to people; a command that only
            writes data (batch's Parquet) keeps the English names, as JSON does, and offers no --lang.
    """
    from emolens.api import RecognizerOptions
    from emolens.labels import DEFAULT_LANG, LANGUAGES
    from emolens.runtime.detectors import DETECTORS

    o = RecognizerOptions
    p.add_argument("--model", default=o.model, help="shipped model name (fast, accurate) or a path to an .onnx file")
    if labels:
        p.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANG, help="language of the labels shown")
    p.add_argument("--min-face-px", type=int, default=o.min_face_px, metavar="N", help="ignore faces smaller than N px")
    p.add_argument(
        "--detector-side-px",
        type=int,
        default=o.detector_max_side_px,
        metavar="PX",
        help="shrink frames to this longest side before detection (320 with --min-face-px 80 is about 3x faster)",
    )
    p.add_argument("--threads", type=int, default=o.threads, help="onnxruntime threads")
    p.add_argument(
        "--detector",
        choices=DETECTORS,
        default=o.detector,
        help="face detector: cnn (libfacedetection's CNN, shipped as an ONNX file), haar (OpenCV's frontal-face "
        "cascade), or auto: the CNN (default %(default)s)",
    )
    p.add_argument(
        "--min-score",
        type=float,
        default=o.min_score,
        metavar="S",
        help="drop faces the detector is less sure of, 0 to 1 (the CNN's confidence; Haar has none) "
        "(default %(default)s)",
    )
    if video:
        p.add_argument(
            "--detect-every",
            type=int,
            default=o.detect_every,
            metavar="K",
            help="detect faces on every K-th frame, track them in between (1: every frame)",
        )
        p.add_argument("--no-smooth", action="store_true", help="raw per-frame probabilities, no moving average")


def recognizer_options(args: argparse.Namespace, **extra: Any) -> RecognizerOptions:
    """`RecognizerOptions` from the flags `add_recognizer_args` added; `extra` sets fields it has no flag for.

    Args:
        args: the parsed flags.
        **extra: RecognizerOptions fields without a shared flag (analyze's whole_image).

    Returns:
        The options; the video flags are read only where the command has them.

    Raises:
        ValueError: a value is out of range (the message names the option).
    """
    from emolens.api import RecognizerOptions

    values: dict[str, Any] = {
        "model": args.model,
        "min_face_px": args.min_face_px,
        "detector_max_side_px": args.detector_side_px,
        "threads": args.threads,
        "detector": args.detector,
        "min_score": args.min_score,
    }
    if hasattr(args, "detect_every"):
        values.update(detect_every=args.detect_every, smooth=not args.no_smooth)
    return RecognizerOptions(**values, **extra)


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
