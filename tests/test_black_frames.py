"""Issue #31: a phone clip that ends on black frames. The followed box must not outlive the face: no face is
reported on a black frame, whether it falls on a detector run (the miss is not carried over) or between runs
(the follower gives the box up), through the library and through `emolens video` alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import cv2
import numpy as np
import pytest

from emolens.api import Recognizer, RecognizerOptions
from emolens.io.sources import VideoFileSource
from support import shared_path

CLIP_FRAMES = 72  # single_face.mp4: one face, visible throughout
BLACK_FRAMES = 4


def clip_ending_black(tmp_path: Path, kept_frames: int) -> Path:
    """The first `kept_frames` frames of single_face.mp4 and then BLACK_FRAMES black ones, as a new .avi (MJPEG,
    which every OpenCV build writes), in tmp_path."""
    frames = []
    with VideoFileSource(shared_path("media", "single_face.mp4")) as source:
        for frame in source:
            if frame.index < kept_frames:
                frames.append(frame.image)
        fps = source.fps
    out = tmp_path / "ends_black.avi"
    height_px, width_px = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width_px, height_px))
    assert writer.isOpened()
    for image in [*frames, *[np.zeros_like(frames[0])] * BLACK_FRAMES]:
        writer.write(image)
    writer.release()
    return out


# With the default --detect-every 3 the detector runs on frames 0, 3, 6, ...: the black starts on a detector frame
# (72), or between two runs (71, where only the follower sees it).
@pytest.mark.parametrize("kept_frames", [CLIP_FRAMES, CLIP_FRAMES - 1], ids=["on-a-detector-run", "between-runs"])
def test_no_face_on_black_frames_through_the_library(tmp_path: Path, kept_frames: int) -> None:
    options = RecognizerOptions()
    assert options.pipeline.detect_every == 3 and kept_frames % 3 in (0, 2)
    stream = Recognizer(options).stream()
    faces_per_frame = []
    with VideoFileSource(clip_ending_black(tmp_path, kept_frames)) as source:
        for frame in source:
            faces_per_frame.append(len(stream.process(frame.image, frame.time_s, frame.index).faces))
    assert len(faces_per_frame) == kept_frames + BLACK_FRAMES
    assert faces_per_frame[kept_frames - 1] == 1, "the face is there on the last real frame"
    assert faces_per_frame[kept_frames:] == [0] * BLACK_FRAMES, "a box outlived its face onto black frames"


def test_no_face_row_on_black_frames_through_the_command(
    emolens_cli: Callable[..., CompletedProcess[str]], tmp_path: Path
) -> None:
    clip = clip_ending_black(tmp_path, CLIP_FRAMES - 1)
    jsonl = tmp_path / "f.jsonl"
    proc = emolens_cli("video", clip, "--jsonl", jsonl)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == CLIP_FRAMES - 1 + BLACK_FRAMES
    assert rows[CLIP_FRAMES - 2]["faces"], "the face is there on the last real frame"
    assert [row["faces"] for row in rows[CLIP_FRAMES - 1 :]] == [[]] * BLACK_FRAMES, "a face row on a black frame"
