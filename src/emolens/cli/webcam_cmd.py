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
from typing import Any

from emolens.labels import LANGUAGES

from .video_cmd import quiet_opencv
from .window import KEY_ESC, open_window

WINDOW_TITLE = "emolens webcam"
QUIT_KEYS = frozenset({ord("q"), ord("Q"), KEY_ESC})
#: Weight of the newest frame interval in the fps shown.
FPS_ALPHA = 0.1


def add_parser(sub: Any) -> None:
    p = sub.add_parser("webcam", help="live emotions from a camera, in a window", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--camera", default="0", help="camera index, or a video file played as if live (default 0)")
    p.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the labels drawn")
    p.add_argument("--no-smooth", action="store_true", help="raw per-frame probabilities, no moving average")
    p.add_argument(
        "--detect-every",
        type=int,
        default=3,
        metavar="K",
        help="detect faces on every K-th frame, track them in between (default 3: real time on 2 cores; 1: all)",
    )
    p.add_argument("--model", default="fast", help="shipped model name (fast) or a path to an .onnx file")
    p.add_argument("--min-face-px", type=int, default=40, metavar="N", help="ignore faces smaller than N pixels")
    p.add_argument(
        "--detector-side-px",
        type=int,
        default=640,
        metavar="PX",
        help="shrink frames to this longest side before detection (320 with --min-face-px 80 is about 3x faster)",
    )
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    p.set_defaults(run=run)


def camera_arg(value: str) -> int | Path:
    return int(value) if value.isdigit() else Path(value)


def run(args: argparse.Namespace) -> int:
    from emolens.api import Recognizer, RecognizerOptions
    from emolens.errors import MediaError
    from emolens.io.video import CameraSource
    from emolens.render import annotate, load_label_atlas

    quiet_opencv(args)
    try:
        source = CameraSource(camera_arg(args.camera))  # first: a missing camera should not wait for the model
    except MediaError as err:
        print(f"emolens: error: {err}", file=sys.stderr)
        return 2
    with source:
        recognizer = Recognizer(
            RecognizerOptions(
                model=args.model,
                min_face_px=args.min_face_px,
                detector_max_side_px=args.detector_side_px,
                threads=args.threads,
                detect_every=args.detect_every,
                smooth=not args.no_smooth,
            )
        )
        stream = recognizer.stream()
        atlas = load_label_atlas()
        window = open_window(WINDOW_TITLE)
        try:
            fps: float | None = None
            last_s: float | None = None
            for frame in source:
                result = stream.process(frame.image, frame.time_s, frame.index)
                now_s = time.perf_counter()
                if last_s is not None and now_s > last_s:
                    rate = 1.0 / (now_s - last_s)
                    fps = rate if fps is None else (1.0 - FPS_ALPHA) * fps + FPS_ALPHA * rate
                last_s = now_s
                window.show(annotate(frame.image, result, args.lang, fps, atlas=atlas))
                if window.poll_key(1) in QUIT_KEYS or not window.is_open:
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
