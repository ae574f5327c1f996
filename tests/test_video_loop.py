"""The one frame loop (`video.run`): every sink gets every frame, stop rules compose, statistics are computed once."""

from __future__ import annotations

import json
from pathlib import Path

from emolens.api import Recognizer
from emolens.io.sinks import JsonlSink, ResultList, TrackSummary
from emolens.io.sources import VideoFileSource
from emolens.types import EMOTIONS
from emolens.video import StopRule, analyze_video, frame_cap, run, stop_when


def test_every_sink_gets_every_frame_and_the_cap_names_itself(media: Path, tmp_path: Path) -> None:
    kept, summary = ResultList(), TrackSummary()
    with VideoFileSource(media / "single_face.mp4") as source, JsonlSink(tmp_path / "f.jsonl") as rows:
        outcome = run(Recognizer().stream(), source, [kept, rows, summary], frame_cap(30, "server limit"))
    assert outcome.frames == summary.frames == len(kept.results) == 30
    assert outcome.stopped == "stopped after the first 30 frames (server limit)"
    assert len(outcome.sink_seconds) == 3
    lines = (tmp_path / "f.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in kept.results]


def test_a_clip_shorter_than_the_cap_is_not_stopped(media: Path) -> None:
    with VideoFileSource(media / "single_face.mp4") as source:
        outcome = run(Recognizer().stream(), source, [], frame_cap(72, "server limit"))
    assert outcome.frames == 72 and outcome.stopped is None  # the clip holds exactly 72 frames


def test_stop_when_gives_the_first_reason_in_order() -> None:
    asked: list[str] = []

    def rule(name: str, from_frame: int) -> StopRule:
        def check(frames_done: int) -> str | None:
            asked.append(name)
            return name if frames_done >= from_frame else None

        return check

    policy = stop_when(rule("a", 5), None, rule("b", 3))
    assert policy(2) is None and asked == ["a", "b"]
    assert policy(4) == "b"
    assert policy(9) == "a"


def test_track_summary_matches_the_frames_it_saw(media: Path, tmp_path: Path) -> None:
    clip = media / "face_noface.mov"
    report = analyze_video(Recognizer(), clip, jsonl_path=tmp_path / "f.jsonl")
    counts: dict[int, list[int]] = {}
    for line in (tmp_path / "f.jsonl").read_text(encoding="utf-8").splitlines():
        for face in json.loads(line)["faces"]:
            if "track_id" in face:
                counts.setdefault(face["track_id"], [0] * len(EMOTIONS))[EMOTIONS.index(face["emotion"])] += 1
    assert report.tracks and {t.track_id: list(t.frames_per_emotion) for t in report.tracks} == counts
    assert report.track_ids == tuple(counts)
    with VideoFileSource(clip) as source:
        frame_s = 1.0 / source.fps
    for track in report.tracks:
        assert abs(sum(track.seconds_per_emotion) - track.frames * frame_s) < 1e-9
        assert abs(sum(track.shares_pct()) - 100.0) < 0.5
