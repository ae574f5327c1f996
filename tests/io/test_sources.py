"""Video file and camera sources on real clips from ../shared/media."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.errors import InputTooLargeError, MediaError
from emolens.io.sources import CameraSource, Frame, VideoFileSource
from support import shared_path


def test_reads_every_frame_with_index_and_time() -> None:
    path = shared_path("media", "single_face.mp4")
    with VideoFileSource(path) as source:
        assert source.size_px == (640, 360)
        assert source.fps == pytest.approx(30.0, rel=0.01)
        frames = list(source)
    assert len(frames) == 72
    assert source.error is None
    assert all(isinstance(f, Frame) for f in frames)
    assert [f.index for f in frames] == list(range(72))
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8
    times = [f.time_s for f in frames]
    assert times[0] == pytest.approx(0.0) and times[-1] == pytest.approx(71 / 30, abs=0.05)
    assert all(b > a for a, b in itertools.pairwise(times))


def test_short_container_count_is_not_an_error() -> None:
    # no_face.mp4's header claims 98 frames and holds 95: an estimate, not damage.
    with VideoFileSource(shared_path("media", "no_face.mp4")) as source:
        n = sum(1 for _ in source)
    assert n >= 90
    assert source.error is None


def test_truncated_file_yields_readable_frames_then_error(tmp_path: Path) -> None:
    original = shared_path("media", "WolfgangLanger_Pexels.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(original.read_bytes()[:400_000])  # the index (moov) is at the front, so a prefix decodes
    with VideoFileSource(cut) as source:
        assert source.frame_count == 472
        frames = list(source)
    assert 50 < len(frames) < 472
    assert [f.index for f in frames] == list(range(len(frames)))
    assert source.error is not None
    assert str(cut) in source.error and "truncated" in source.error
    assert "\n" not in source.error


def test_truncated_file_without_index_is_a_media_error(tmp_path: Path) -> None:
    # single_face.mp4 keeps its index at the end: a cut copy cannot be opened at all.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(shared_path("media", "single_face.mp4").read_bytes()[:100_000])
    with pytest.raises(MediaError, match=r"cut\.mp4"):
        VideoFileSource(cut)


def test_missing_and_non_video_files(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"missing\.mp4"):
        VideoFileSource(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")
    with pytest.raises(MediaError, match=r"notes\.mp4"):
        VideoFileSource(text)


def test_missing_camera_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="camera 7 could not be opened"):
        CameraSource(7)


def test_camera_source_accepts_a_file_paced_at_its_frame_rate() -> None:
    path = shared_path("media", "single_face.mp4")
    with CameraSource(path) as camera:
        frames = []
        for frame in camera:
            frames.append(frame)
            if len(frames) == 15:
                break
    # 15 frames at 30 fps take about half a second when paced like a live feed.
    assert frames[-1].time_s == pytest.approx(14 / 30, abs=0.1)
    assert camera.error is None


def test_one_decoder_thread_gives_the_same_frames_and_starts_no_thread() -> None:
    # Batch workers decode with one thread (the other cores run other workers); the frames must not change.
    path = shared_path("media", "single_face.mp4")
    tasks = Path("/proc/self/task")
    before = len(list(tasks.iterdir())) if tasks.is_dir() else None
    with VideoFileSource(path, decoder_threads=1) as source:
        single = [frame.image for frame in source]
        during = len(list(tasks.iterdir())) if tasks.is_dir() else None
    with VideoFileSource(path) as source:
        default = [frame.image for frame in source]
    assert len(single) == len(default) == 72
    assert all(np.array_equal(a, b) for a, b in zip(single, default, strict=True))
    assert during == before  # FFmpeg decoded in the calling thread (None == None where there is no /proc)


def test_decoder_threads_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="decoder_threads"):
        VideoFileSource(shared_path("media", "single_face.mp4"), decoder_threads=0)


def test_frames_over_the_pixel_limit_are_refused_on_opening() -> None:
    path = shared_path("media", "single_face.mp4")  # 640x360
    with pytest.raises(InputTooLargeError, match=r"single_face\.mp4: frames of 640x360 pixels are over the limit"):
        VideoFileSource(path, max_frame_pixels=640 * 360 - 1)
    with VideoFileSource(path, max_frame_pixels=640 * 360) as source:
        assert sum(1 for _ in source) == 72
    with pytest.raises(ValueError, match="max_frame_pixels"):
        VideoFileSource(path, max_frame_pixels=0)


def test_a_file_of_huge_frames_is_refused_by_both_sources(tmp_path: Path) -> None:
    path = tmp_path / "huge.avi"  # 7500x7000 = 52.5 MP, over DEFAULT_MAX_PIXELS, in a file of a few hundred KB
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 5, (7500, 7000))
    writer.write(np.zeros((7000, 7500, 3), np.uint8))
    writer.release()
    for open_source in (VideoFileSource, lambda p: CameraSource(p, realtime=False)):
        with pytest.raises(InputTooLargeError, match=r"huge\.avi: frames of 7500x7000 pixels are over the limit of 50"):
            open_source(path)
