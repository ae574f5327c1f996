"""Hostile input to the real `emolens` command: FIFOs, devices, image bombs, outputs that cannot be written,
a still image named .mp4, impossible serve flags, a taken port. One clear line each, the other inputs
still processed; every test here failed (hung, lost results or printed a traceback) before issue 18."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from support import run_emolens


def jpeg_bomb(width_px: int, height_px: int) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    assert ok
    raw = bytearray(data.tobytes())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", height_px, width_px)
    return bytes(raw)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("emolens: error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert all(c.isprintable() for c in lines[0]), lines[0]
    return lines[0]


def test_fifo_and_dev_zero_are_refused_and_the_next_input_still_runs(tmp_path, media, emolens_cli):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    good = media / "single_face.jpg"
    done = emolens_cli("analyze", "--json", fifo, "/dev/zero", good, timeout_s=120)  # hung for ever before
    assert done.returncode == 1
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["path"] for o in objects] == [str(fifo), "/dev/zero", str(good)]
    assert "not a regular file" in objects[0]["error"] and "not a regular file" in objects[1]["error"]
    assert len(objects[2]["faces"]) == 1


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path, emolens_cli):
    huge = tmp_path / "huge.png"
    with huge.open("wb") as fh:
        fh.truncate(600 * 1024 * 1024)  # sparse: 600 MB on paper, nothing on disk
    done = emolens_cli("analyze", "--json", huge)
    assert done.returncode == 1
    assert "over the limit" in json.loads(done.stdout)["error"]


def test_image_bomb_is_refused_by_its_header(tmp_path, media, emolens_cli):
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(jpeg_bomb(30000, 30000))  # segfaulted the detector before
    done = emolens_cli("analyze", "--json", bomb, media / "single_face.jpg")
    assert done.returncode == 1
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert "30000x30000" in objects[0]["error"] and "megapixels" in objects[0]["error"]
    assert len(objects[1]["faces"]) == 1
    small = emolens_cli("analyze", "--json", "--max-pixels", "1000", media / "single_face.jpg")
    assert small.returncode == 1 and "over the limit of 0.001 megapixels" in small.stdout


def test_out_that_is_a_file_or_cannot_be_created_is_one_line_before_any_work(tmp_path, media, emolens_cli):
    existing = tmp_path / "a-file"
    existing.write_text("x")
    for out in (existing, Path("/proc/emolens-cannot-be-here")):
        done = emolens_cli("analyze", "--out", out, media / "single_face.jpg")
        assert done.returncode == 2
        assert "--out" in one_error_line(done.stderr)
        assert done.stdout == ""


def test_a_failed_annotated_copy_keeps_the_result(tmp_path, media, emolens_cli):
    out = tmp_path / "out"
    (out / "single_face.jpg").mkdir(parents=True)  # the copy's name is taken by a folder: imwrite fails
    done = emolens_cli("analyze", "--json", "--out", out, media / "single_face.jpg", media / "astronaut.png")
    assert done.returncode == 1
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [len(o["faces"]) for o in objects] == [1, 1], "a result was lost with its annotated copy"
    assert "could not write" in one_error_line(done.stderr)
    assert (out / "astronaut.png").is_file()


def test_video_out_in_a_folder_that_cannot_be_written(media, emolens_cli):
    done = emolens_cli("video", media / "single_face.mp4", "--out", "/proc/emolens.mp4")
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert "--out /proc/emolens.mp4" in line and "cannot write" in line


def test_a_jpeg_named_mp4_says_what_it_is(tmp_path, media, emolens_cli):
    fake = tmp_path / "holiday.mp4"
    shutil.copy(media / "single_face.jpg", fake)
    done = emolens_cli("video", fake)
    assert done.returncode == 2
    assert "is a JPEG image, not a video" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    "flags",
    [
        ["--port", "99999"],
        ["--port", "-1"],
        ["--max-upload-mb", "inf"],
        ["--max-upload-mb", "nan"],
        ["--max-pixels", "0"],
        ["--max-rss-mb", "-1"],
        ["--max-rss-mb", "inf"],
        ["--timeout-s", "0"],
        ["--workers", "-1"],
        ["--max-video-frames", "0"],
    ],
)
def test_impossible_serve_flags_are_one_line(flags, emolens_cli):
    # WebOptions alone checks the limits; the command names the flag that set the refused value.
    done = emolens_cli("serve", *flags, timeout_s=60)
    assert done.returncode == 2
    assert flags[0] in one_error_line(done.stderr)
    assert "web app on" not in done.stderr


def test_serve_on_a_taken_port_is_one_line_and_leaves_no_folder(tmp_path):
    temp = tmp_path / "temp"  # the server's temporary folder: anything it left behind shows here
    temp.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        done = run_emolens(
            "serve", "--port", str(taken.getsockname()[1]), timeout_s=120,
            env={"TMPDIR": str(temp), "XDG_CACHE_HOME": str(tmp_path / "cache")},
        )  # fmt: skip
    assert done.returncode == 2
    assert "in use" in one_error_line(done.stderr)
    assert "web app on" not in done.stderr
    assert not [p for p in temp.iterdir() if p.is_dir()]  # (a library may drop a dot-file there; no folder)


def test_a_video_of_huge_frames_is_refused_before_decoding(tmp_path, emolens_cli):
    # A few hundred kilobytes of MJPEG declaring 7500x7000 frames (52.5 MP, over the 50 MP that photos have
    # too): the read-ahead would otherwise hold several frames of 157 MB each.
    path = tmp_path / "huge.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 5, (7500, 7000))
    writer.write(np.zeros((7000, 7500, 3), np.uint8))
    writer.release()
    done = emolens_cli("video", path)
    assert done.returncode != 0
    line = one_error_line(done.stderr)
    assert "huge.avi: frames of 7500x7000 pixels are over the limit of 50 megapixels per frame" in line
