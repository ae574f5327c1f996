"""JSONL, CSV and video sinks: round trips, and a video that browsers can play."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.errors import MediaError
from emolens.io.sinks import CSV_COLUMNS, CsvSink, JsonlSink, VideoSink, copy_audio, has_audio
from emolens.io.sources import VideoFileSource
from emolens.types import EMOTIONS, LANDMARK_COLUMNS, Box, FaceResult, FrameResult
from support import shared_path

PROBS = (0.05, 0.01, 0.04, 0.7, 0.1, 0.05, 0.05)
#: Five (x, y) points as a detector gives them: eyes, nose tip, mouth corners, left to right in the image.
POINTS = ((40.25, 60.5), (80.0, 61.0), (60.0, 85.125), (45.0, 110.0), (76.0, 111.0))
RESULTS = [
    FrameResult(faces=(FaceResult(Box(10, 20, 110, 140), PROBS, 0.93, 1, POINTS),), frame_index=0, time_s=0.0),
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
        "landmarks": {
            "eye_l": [40.25, 60.5],
            "eye_r": [80.0, 61.0],
            "nose": [60.0, 85.12],
            "mouth_l": [45.0, 110.0],
            "mouth_r": [76.0, 111.0],
        },
    }
    assert lines[1] == {"frame": 1, "time_s": 0.0417, "faces": []}
    assert lines[2]["faces"][0]["landmarks"] is None  # none known (a Haar face, a followed box): null


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
    assert [float(rows[0][c]) for c in LANDMARK_COLUMNS] == pytest.approx([v for p in POINTS for v in p], abs=0.01)
    assert rows[0]["lm_nose_x"] == "60.00" and rows[0]["lm_mouth_r_y"] == "111.00"
    assert all(rows[1][c] == "" for c in LANDMARK_COLUMNS)  # no landmarks: empty cells


def test_csv_names_the_face_columns_as_the_parquet_does() -> None:
    pytest.importorskip("pyarrow")
    from emolens.batch.parquet import FACE_COLUMNS

    # Parquet's face rows are the CSV's, probabilities (p_<label>) and landmarks (lm_<point>_x/_y) included,
    # between the input's path and the model and detector that made them.
    assert ("source", *CSV_COLUMNS, "model", "detector") == FACE_COLUMNS
    assert [c for c in CSV_COLUMNS if c.startswith("p_")] == [f"p_{e}" for e in EMOTIONS]


def test_sink_into_unwritable_place_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MediaError, match=r"frames\.jsonl"):
        JsonlSink(blocker / "frames.jsonl")


def _stream_line(path: Path, kind: str = "Video:") -> str:
    """ffmpeg's description of the first video (or `kind`) stream in `path` (`ffmpeg -i` prints it; ffprobe is not
    bundled)."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    return next(line for line in probe.stderr.splitlines() if kind in line)


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


TONE_HZ = 440


def _ffmpeg(*args: object) -> bytes:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-hide_banner", "-loglevel", "error", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A shared clip's pictures with a generated 440 Hz tone for sound (5 s, longer than the 2.4 s of pictures),
    and the same pictures without sound."""
    folder = tmp_path_factory.mktemp("clips")
    shared = shared_path("media", "single_face.mp4")
    tone, silent = folder / "tone.mp4", folder / "silent.mp4"
    _ffmpeg("-i", shared, "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:duration=5", "-map", "0:v", "-map", "1:a",
            "-c:v", "copy", "-c:a", "aac", tone)  # fmt: skip
    _ffmpeg("-i", shared, "-map", "0:v", "-c:v", "copy", silent)
    return tone, silent


def _sound(path: Path) -> np.ndarray:
    """The first audio stream of `path`, decoded to mono 16-bit samples at 8 kHz."""
    return np.frombuffer(_ffmpeg("-i", path, "-map", "0:a:0", "-ac", 1, "-ar", 8000, "-f", "s16le", "-"), np.int16)


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_video_sink_keeps_the_source_sound(tmp_path: Path, clips: tuple[Path, Path], suffix: str) -> None:
    tone, _ = clips
    with VideoFileSource(tone) as source:
        frames = [f.image for f in source][:30]
    out = tmp_path / f"clip{suffix}"
    with VideoSink(out, 30.0, (640, 360), audio_from=tone) as sink:
        for image in frames:
            sink.write(image)
    assert has_audio(tone) and has_audio(out)
    assert ("aac" if suffix == ".mp4" else "opus") in _stream_line(out, "Audio:")
    with VideoFileSource(out) as back:
        assert sum(1 for _ in back) == 30 and back.error is None  # every frame kept
    sound = _sound(out).astype(np.float64)
    # Cut to the 30 frames' second, not the tone's 5 s (encoders pad a few ms).
    assert len(sound) / 8000 == pytest.approx(1.0, abs=0.1)
    spectrum = np.abs(np.fft.rfft(sound))
    assert np.fft.rfftfreq(len(sound), 1 / 8000)[int(np.argmax(spectrum))] == pytest.approx(TONE_HZ, abs=5)
    if suffix == ".mp4":
        data = out.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat")  # still faststart after the remux


def test_video_sink_of_a_silent_source_stays_silent(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    _, silent = clips
    out = tmp_path / "clip.mp4"
    with VideoSink(out, 30.0, (64, 48), audio_from=silent) as sink:
        for i in range(5):
            sink.write(np.full((48, 64, 3), 40 * i, np.uint8))
    assert not has_audio(silent) and not has_audio(out)
    assert copy_audio(out, silent) is False


def test_failed_sound_copy_keeps_the_silent_video_and_warns_once(
    tmp_path: Path, clips: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    tone, _ = clips
    broken = tmp_path / "annotated.mp4"
    broken.write_bytes(b"not a video at all" * 100)  # ffmpeg cannot read it: the remux fails
    with caplog.at_level(logging.WARNING, logger="emolens.io.sinks"):
        assert copy_audio(broken, tone, 1.0) is False
    assert broken.read_bytes() == b"not a video at all" * 100
    assert [p.name for p in tmp_path.iterdir()] == ["annotated.mp4"]  # no half-written copy left behind
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "annotated.mp4: written without sound" in warnings[0] and "tone.mp4" in warnings[0]


def test_sound_copy_takes_odd_file_names_as_files(
    tmp_path: Path, clips: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tone, silent = clips
    monkeypatch.chdir(tmp_path)
    # Bare, ffmpeg would read these names as its pipe: protocol (stdin, stdout), not as the files they are.
    (tmp_path / "pipe:tone.mp4").write_bytes(tone.read_bytes())
    (tmp_path / "pipe:video.mp4").write_bytes(silent.read_bytes())
    assert has_audio(Path("pipe:tone.mp4"))
    assert copy_audio(Path("pipe:video.mp4"), Path("pipe:tone.mp4"), 1.0) and has_audio(tmp_path / "pipe:video.mp4")
