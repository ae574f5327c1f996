"""JSONL, CSV and video sinks: round trips, and a video that browsers can play."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.errors import MediaError
from emolens.io.sinks import CSV_COLUMNS, CsvSink, JsonlSink, VideoSink
from emolens.io.sources import VideoFileSource
from emolens.types import EMOTIONS, Box, FaceResult, FrameResult
from support import shared_path

PROBS = (0.05, 0.01, 0.04, 0.7, 0.1, 0.05, 0.05)
RESULTS = [
    FrameResult(faces=(FaceResult(Box(10, 20, 110, 140), PROBS, 0.93, 1),), frame_index=0, time_s=0.0),
    FrameResult(faces=(), frame_index=1, time_s=0.0417),
    FrameResult(
        faces=(
            FaceResult(Box(12, 21, 112, 141), PROBS, None, 1),
            FaceResult(Box(300, 50, 380, 130), PROBS[::-1], 0.5, 2),
        ),
        frame_index=2,
        time_s=0.0834,
    ),
]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out" / "frames.jsonl"
    with JsonlSink(path) as sink:
        for result in RESULTS:
            sink.append(result)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [r.to_dict() for r in RESULTS]
    assert lines[0]["faces"][0] == {
        "track_id": 1,
        "box": [10, 20, 110, 140],
        "score": 0.93,
        "emotion": "happy",
        "probs": dict(zip(EMOTIONS, PROBS, strict=True)),
    }
    assert lines[1] == {"frame": 1, "time_s": 0.0417, "faces": []}


def test_csv_one_row_per_face(tmp_path: Path) -> None:
    path = tmp_path / "frames.csv"
    with CsvSink(path) as sink:
        for result in RESULTS:
            sink.append(result)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [(r["frame"], r["track_id"]) for r in rows] == [("0", "1"), ("2", "1"), ("2", "2")]
    assert [int(rows[2][k]) for k in ("x1", "y1", "x2", "y2")] == [300, 50, 380, 130]
    assert rows[1]["score"] == "" and rows[0]["score"] == "0.9300"
    assert rows[0]["emotion"] == "happy"
    assert sum(float(rows[0][f"p_{e}"]) for e in EMOTIONS) == pytest.approx(1.0, abs=1e-3)


def test_sink_into_unwritable_place_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MediaError, match=r"frames\.jsonl"):
        JsonlSink(blocker / "frames.jsonl")


def _stream_line(path: Path) -> str:
    """ffmpeg's description of the video stream in `path` (`ffmpeg -i` prints it; ffprobe is not bundled)."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    return next(line for line in probe.stderr.splitlines() if "Video:" in line)


def _codec_of(path: Path) -> str:
    return _stream_line(path).split("Video:")[1].split()[0]


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "h264"), (".webm", "vp9")])
def test_video_sink_writes_browser_codec_and_reads_back(tmp_path: Path, suffix: str, codec: str) -> None:
    with VideoFileSource(shared_path("media", "single_face.mp4")) as source:
        frames = [f.image for f in source][:30]
    out = tmp_path / f"clip{suffix}"
    with VideoSink(out, 30.0, (640, 360)) as sink:
        for image in frames:
            sink.write(image)
    assert _codec_of(out) == codec
    if suffix == ".mp4":
        data = out.read_bytes()
        # faststart: the index comes before the media data, so a browser can play while downloading.
        assert data.index(b"moov") < data.index(b"mdat")
    with VideoFileSource(out) as back:
        decoded = [f.image for f in back]
    assert len(decoded) == 30 and back.error is None
    # Lossy, but the same pictures: mean absolute difference of a few grey levels.
    assert float(np.mean(np.abs(decoded[10].astype(int) - frames[10].astype(int)))) < 8


def test_video_sink_pixel_format_is_yuv420p(tmp_path: Path) -> None:
    out = tmp_path / "odd.mp4"
    with VideoSink(out, 25.0, (101, 75)) as sink:  # odd sides are padded, not refused
        for i in range(5):
            sink.write(np.full((75, 101, 3), 40 * i, np.uint8))
    stream = _stream_line(out)
    assert "h264" in stream and "yuv420p" in stream and "102x76" in stream
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_video_sink_refuses_unknown_suffix_and_wrong_frames(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"out\.avi"):
        VideoSink(tmp_path / "out.avi", 25.0, (64, 48))
    with VideoSink(tmp_path / "ok.mp4", 25.0, (64, 48)) as sink, pytest.raises(MediaError, match="does not match"):
        sink.write(np.zeros((10, 10, 3), np.uint8))
