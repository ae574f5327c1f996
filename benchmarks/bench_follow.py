"""How well boxes between detector runs match detecting on every frame: reused as they are, or followed.

    python benchmarks/bench_follow.py [VIDEO ...] [--every 2 3 4 6] [--detector auto] [--side-px 640] [--pan-px 0 60]

One pass per video: the detector runs on every frame and its boxes are the reference. For each k in
--every, the detector's boxes of every k-th frame are either reused unchanged on the frames in between
(what the pipeline did before runtime/follow.py) or moved by BoxFollower; each reference face on an
in-between frame scores the IoU of the best-overlapping box (0 when there is none). Printed: mean IoU
and the share of in-between faces under IoU 0.5, both ways (the follower's cost per frame is bench_video's
"follow" stage), and how many followed boxes the follower gave up (their region lost the face's contrast,
runtime/follow.py's CONTRAST_KEPT: right on a black frame, wrong where the face is still there). The
project's clips hold faces that barely move, so each also runs panned (--pan-px): the frames shifted to and fro
as by a moving camera.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import cv2
import numpy as np

from emolens.api import RecognizerOptions
from emolens.io.sources import VideoFileSource
from emolens.runtime.detectors import make_detector
from emolens.runtime.follow import BoxFollower
from emolens.types import Box

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT_VIDEOS = [MEDIA / "WolfgangLanger_Pexels.mp4", MEDIA / "single_face.mp4", MEDIA / "face_noface.mov"]


def best_iou(face: Box, boxes: list[Box]) -> float:
    return max((face.iou(b) for b in boxes), default=0.0)


def panned(image: np.ndarray, index: int, pan_px: float) -> np.ndarray:
    """The frame moved as by a camera panning to and fro: `pan_px` at most, a 2-second period at 24 fps, so the
    face moves up to pan_px * 2 * pi / 48 pixels per frame (real face texture, known motion)."""
    if pan_px <= 0:
        return image
    phase = 2.0 * math.pi * index / 48.0
    shift = np.float32([[1, 0, pan_px * math.sin(phase)], [0, 1, 0.4 * pan_px * math.sin(2 * phase)]])
    return cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)


def measure(
    video: Path, every: list[int], detector_name: str, side_px: int, min_face_px: int, pan_px: float
) -> list[tuple]:
    detector = make_detector(detector_name, min_face_px=min_face_px, max_side_px=side_px)
    followers = {k: BoxFollower() for k in every}
    base: dict[int, list[Box]] = {k: [] for k in every}
    scores = {k: {"reused": [], "followed": []} for k in every}
    given_up = dict.fromkeys(every, 0)
    with VideoFileSource(video) as source:
        for frame in source:
            image = panned(frame.image, frame.index, pan_px)
            reference = [d.box for d in detector.detect(image)]
            for k in every:
                if frame.index % k == 0:
                    base[k] = reference
                    followers[k].start(image, reference)
                    continue
                moved = followers[k].follow(image)
                followed = [box for box in moved if box is not None]
                given_up[k] += len(moved) - len(followed)
                for face in reference:
                    scores[k]["reused"].append(best_iou(face, base[k]))
                    scores[k]["followed"].append(best_iou(face, followed))
    rows = []
    for k in every:
        reused, followed = np.array(scores[k]["reused"]), np.array(scores[k]["followed"])
        rows.append((video.name, k, len(reused), reused.mean(), followed.mean(), (reused < 0.5).mean(),
                     (followed < 0.5).mean(), given_up[k]))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=DEFAULT_VIDEOS)
    parser.add_argument("--every", type=int, nargs="+", default=[2, 3, 4, 6])
    parser.add_argument("--detector", default=RecognizerOptions.detector, help="the reference detector")
    parser.add_argument("--side-px", type=int, default=640, help="the reference detector's frame side")
    parser.add_argument("--min-face-px", type=int, default=RecognizerOptions.min_face_px)
    parser.add_argument(
        "--pan-px",
        type=float,
        nargs="+",
        default=[0.0, 60.0],
        help="also run each clip panned to and fro by up to this many pixels (0: as it is)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    print(f"reference: detector {args.detector} at {args.side_px} px on every frame")
    header = ["video", "k", "in-between faces", "mean IoU reused", "mean IoU followed", "IoU<0.5 reused",
              "IoU<0.5 followed", "box-frames given up"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for video in args.videos:
        for pan_px in args.pan_px:
            for name, k, n, reused, followed, bad_reused, bad_followed, given_up in measure(
                video, args.every, args.detector, args.side_px, args.min_face_px, pan_px
            ):
                title = name + (f", panned {pan_px:g} px" if pan_px else "")
                cells = [title, str(k), str(n), f"{reused:.3f}", f"{followed:.3f}", f"{bad_reused:.1%}",
                         f"{bad_followed:.1%}", str(given_up)]  # fmt: skip
                print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
