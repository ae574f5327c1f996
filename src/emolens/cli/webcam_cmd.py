"""`emolens webcam`: live emotions from a camera in a window; press q or Esc to quit.

--camera takes a camera index (0, 1, ...) or, for demos and tests without a camera, a video file path:
the file is then played at its own frame rate as if it were live, and its last frame stays on screen
until you quit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import add_recognizer_args, add_render_args, quiet_opencv, recognizer_options, render_options
from .window import KEY_ESC, Window, open_window

if TYPE_CHECKING:
    import numpy as np

    from emolens.render import LabelAtlas
    from emolens.types import FrameResult

WINDOW_TITLE = "emolens webcam"
QUIT_KEYS = frozenset({ord("q"), ord("Q"), KEY_ESC})


def add_parser(sub: Any) -> None:
    """Add `emolens webcam` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("webcam", help="live emotions from a camera, in a window", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--camera", default="0", help="camera index, or a video file played as if live (default 0)")
    add_recognizer_args(p, video=True)
    add_render_args(p)
    p.set_defaults(run=run)


def camera_arg(value: str) -> int | Path:
    """What --camera names: a camera index, or a video file to play as if it were live.

    Args:
        value: the flag's text.

    Returns:
        An int for digits only, else a path.
    """
    return int(value) if value.isdigit() else Path(value)


def run(args: argparse.Namespace) -> int:
    """Show the camera's frames, annotated, in a window until q, Q or Escape (or the window is closed).

    Args:
        args: the parsed flags.

    Returns:
        0 when the user quits, 1 when the camera stopped delivering frames, 2 when it could not be opened.

    Raises:
        EmolensError: If no window can be opened (no display), or the model cannot be loaded.
    """
    from emolens.api import Recognizer
    from emolens.errors import MediaError
    from emolens.io.sources import CameraSource
    from emolens.render import load_label_atlas
    from emolens.video import run as run_frames

    quiet_opencv(args)
    try:
        source = CameraSource(camera_arg(args.camera))  # first: a missing camera should not wait for the model
    except MediaError as err:
        print(f"emolens: error: {err}", file=sys.stderr)
        return 2
    with source:
        recognizer = Recognizer(recognizer_options(args))
        window = open_window(WINDOW_TITLE)
        try:
            shown = _WindowSink(window, args.lang, load_label_atlas(), render_options(args).labels_only)
            stopped = run_frames(recognizer.stream(), source, [shown], shown.quit_reason).stopped
            if stopped:
                return 0
            if source.error:
                print(f"emolens: error: {source.error}", file=sys.stderr)
                return 1
            # A video file has ended: keep its last frame up until the user quits.
            while window.is_open and window.poll_key(30) not in QUIT_KEYS:
                pass
            return 0
        finally:
            window.close()


class _WindowSink:
    """The frame loop's sink for the window: each frame annotated, with the rate the window updates at, then the
    keyboard polled; q, Q, Escape or a closed window make `quit_reason` end the loop."""

    def __init__(self, window: Window, lang: str, atlas: LabelAtlas, labels_only: bool) -> None:
        from emolens.framerate import FrameRate

        self.window = window
        self.lang = lang
        self.atlas = atlas
        self.labels_only = labels_only
        self.rate = FrameRate()  # frames shown over the seconds they took
        self.quit = False

    def append(self, result: FrameResult, image: np.ndarray) -> None:
        from emolens.render import annotate

        fps = self.rate.tick(time.perf_counter())
        self.window.show(annotate(image, result, self.lang, fps, atlas=self.atlas, labels_only=self.labels_only))
        self.quit = self.window.poll_key(1) in QUIT_KEYS or not self.window.is_open

    def close(self) -> None:
        """The window is closed by the command, after the loop (a file's last frame stays up until quit)."""

    def quit_reason(self, _frames_done: int) -> str | None:
        return "quit" if self.quit else None
