"""`emolens video` as a user runs it, on real clips: every output, and a damaged file."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import cv2
import numpy as np

from emolens.io.sinks import CSV_COLUMNS, has_audio
from emolens.types import EMOTIONS
from support import shared_path

Cli = Callable[..., CompletedProcess[str]]


def test_video_writes_jsonl_csv_annotated_video_and_timeline(emolens_cli: Cli, tmp_path: Path) -> None:
    clip = shared_path("media", "single_face.mp4")
    out, jsonl, table, timeline = tmp_path / "a.mp4", tmp_path / "f.jsonl", tmp_path / "f.csv", tmp_path / "tl"
    proc = emolens_cli(
        "video", clip, "--out", out, "--jsonl", jsonl, "--csv", table, "--timeline", timeline, "--lang", "vi"
    )
    assert proc.returncode == 0, proc.stderr
    assert "72 frames" in proc.stdout
    assert "Traceback" not in proc.stderr

    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [line["frame"] for line in lines] == list(range(72))
    assert lines[1]["time_s"] > lines[0]["time_s"] == 0.0
    with_faces = [line for line in lines if line["faces"]]
    assert len(with_faces) >= 60, "the face is visible throughout single_face.mp4"
    face = with_faces[0]["faces"][0]
    assert set(face) == {"track_id", "box", "score", "emotion", "probs", "landmarks"}
    assert len(face["box"]) == 4 and face["emotion"] in EMOTIONS
    assert list(face["probs"]) == list(EMOTIONS)
    assert abs(sum(face["probs"].values()) - 1.0) < 1e-2
    faces = [f for line in with_faces for f in line["faces"]]
    marked = [f for f in faces if f["landmarks"] is not None]
    if "face detector cnn" in proc.stdout:
        # Detector frames (every 3rd by default) carry the CNN's five points; followed boxes carry none.
        assert len(faces) / 4 < len(marked) < len(faces) / 2
    else:
        assert "face detector haar" in proc.stdout and not marked  # Haar finds no landmarks
    for f in marked:
        x1, y1, x2, y2 = f["box"]
        points = f["landmarks"]
        assert list(points) == ["eye_l", "eye_r", "nose", "mouth_l", "mouth_r"]
        assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in points.values()), (f["box"], points)
        assert points["eye_l"][0] < points["eye_r"][0] and points["eye_r"][1] < points["mouth_r"][1]

    with table.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(line["faces"]) for line in lines)

    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 72
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (640, 360)
    assert int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"avc1", b"h264", b"H264")
    cap.release()
    assert has_audio(clip) and has_audio(out), "the annotated video keeps the clip's sound"

    track_ids = {f["track_id"] for line in lines for f in line["faces"]}
    pngs = sorted(timeline.glob("track_*.png"))
    assert [p.name for p in pngs] == [f"track_{t}.png" for t in sorted(track_ids)]
    chart = cv2.imread(str(pngs[0]))
    assert chart is not None and chart.shape[0] > 100 and chart.std() > 10


def test_truncated_video_keeps_frames_before_the_cut_and_exits_1(emolens_cli: Cli, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    # WolfgangLanger_Pexels.mp4 keeps its index in front: the first ~15% of its bytes decode to ~60 frames.
    cut.write_bytes(shared_path("media", "WolfgangLanger_Pexels.mp4").read_bytes()[:250_000])
    jsonl, out = tmp_path / "f.jsonl", tmp_path / "a.mp4"
    proc = emolens_cli("video", cut, "--jsonl", jsonl, "--out", out, "--detect-every", "3")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("emolens: error: ") and "cut.mp4" in errors[0] and "truncated" in errors[0]
    frames = [json.loads(line)["frame"] for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(frames) > 20 and frames == list(range(len(frames)))
    cap = cv2.VideoCapture(str(out))
    # The cut clip's sound ends before its last decodable frame: copying it in must not cut the video short.
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(frames)
    assert has_audio(out)


def _frame(path: Path, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok, f"{path}: no frame {index}"
    return frame


def test_labels_only_leaves_the_probability_panel_off(emolens_cli: Cli, tmp_path: Path) -> None:
    clip = shared_path("media", "single_face.mp4")
    for name, flags in (("panel.mp4", ()), ("labels.mp4", ("--labels-only",))):
        proc = emolens_cli("video", clip, "--out", tmp_path / name, *flags)
        assert proc.returncode == 0, proc.stderr
    raw, with_panel, labels_only = (_frame(p, 40) for p in (clip, tmp_path / "panel.mp4", tmp_path / "labels.mp4"))

    def darkened(image: np.ndarray) -> int:
        # The panel darkens the picture under it to 40%; H.264's own changes are a few levels.
        return int(((raw.astype(int) - image) > 40).all(axis=2).sum())

    # A 640x360 frame's panel is about 110x80 px; the label alone is under a fifth of that.
    assert darkened(with_panel) > darkened(labels_only) + 3000, (darkened(with_panel), darkened(labels_only))
    assert (np.abs(labels_only.astype(int) - raw) > 60).any(axis=2).sum() > 300  # the box and label are drawn


def test_missing_input_is_one_line_and_exit_2(emolens_cli: Cli, tmp_path: Path) -> None:
    proc = emolens_cli("video", tmp_path / "nope.mp4", "--jsonl", tmp_path / "f.jsonl")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"emolens: error: {tmp_path / 'nope.mp4'}: no such video file"]
