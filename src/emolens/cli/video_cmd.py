"""`emolens video`: emotions of every face in every frame of a video file, tracked over time.

Writes an annotated H.264 .mp4 (or VP9 .webm), JSON lines, a CSV and per-face timeline charts, as asked.
A video that breaks off part-way is processed up to the break; the command then reports it and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import (
    add_recognizer_args,
    add_render_args,
    quiet_opencv,
    recognizer_options,
    render_options,
    writable_file,
    writable_folder,
)


def add_parser(sub: Any) -> None:
    """Add `emolens video` and its flags to the subcommands.

    Args:
        sub: the subparsers of the `emolens` parser.
    """
    p = sub.add_parser("video", help="recognise emotions in a video file", description=__doc__)
    p.add_argument("input", type=Path, metavar="INPUT", help="a video file (mp4, mov, webm, avi, mkv, ...)")
    p.add_argument("--out", type=Path, metavar="FILE", help="annotated video: .mp4 (H.264) or .webm (VP9)")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="one JSON object per frame")
    p.add_argument("--csv", type=Path, metavar="FILE", help="one row per face per frame")
    p.add_argument("--timeline", type=Path, metavar="DIR", help="a PNG chart of each tracked face's emotions")
    add_recognizer_args(p, video=True)
    add_render_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Analyse one video with a progress bar, write the outputs asked for, print a summary.

    Args:
        args: the parsed flags.

    Returns:
        0, or 1 when the video was damaged (every frame read before the damage is still in the outputs).

    Raises:
        EmolensError: If an output cannot be written, or the video cannot be opened at all.
    """
    from tqdm import tqdm

    from emolens.api import Recognizer
    from emolens.video import analyze_video

    quiet_opencv(args)
    # Every output is checked before the model loads and the first frame is read: a read-only folder is one
    # line now, not an encoder's exit code after the whole video.
    for flag, path in (("--out", args.out), ("--jsonl", args.jsonl), ("--csv", args.csv)):
        if path is not None:
            writable_file(path, flag)
    if args.timeline is not None:
        writable_folder(args.timeline, "--timeline")
    recognizer = Recognizer(recognizer_options(args))
    if not any((args.out, args.jsonl, args.csv, args.timeline)):
        print("emolens: note: no --out, --jsonl, --csv or --timeline given; only a summary is printed", file=sys.stderr)
    with tqdm(unit="frame", desc=args.input.name, file=sys.stderr, dynamic_ncols=True, disable=None) as bar:

        def on_progress(done: int, total: int | None) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        report = analyze_video(
            recognizer,
            args.input,
            annotated_path=args.out,
            jsonl_path=args.jsonl,
            csv_path=args.csv,
            timeline_dir=args.timeline,
            lang=args.lang,
            labels_only=render_options(args).labels_only,
            on_progress=on_progress,
        )
    tracks = ", ".join(map(str, report.track_ids)) or "none"
    print(
        f"{args.input}: {report.frames} frames, {report.faces} faces, tracks {tracks}, "
        f"{report.seconds:.1f} s ({report.fps:.1f} fps), face detector {recognizer.detector_description}"
    )
    for label, path in (("annotated video", report.annotated_path), ("JSON lines", report.jsonl_path),
                        ("CSV", report.csv_path)):  # fmt: skip
        if path is not None:
            print(f"  {label}: {path}")
    for path in report.timeline_paths:
        print(f"  timeline: {path}")
    if report.error:
        print(f"emolens: error: {report.error}", file=sys.stderr)
        return 1
    return 0
