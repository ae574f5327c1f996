"""analyze_video stops where it is told (a frame cap, a deadline, a client gone) and keeps what it did."""

from __future__ import annotations

from pathlib import Path

from emolens.api import Recognizer
from emolens.video import analyze_video


def test_should_stop_ends_the_run_and_keeps_the_frames_before(media: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "f.jsonl"
    asked: list[int] = []

    def should_stop(frames_done: int) -> str | None:
        asked.append(frames_done)
        return "the server's limit" if frames_done >= 5 else None

    report = analyze_video(Recognizer(), media / "single_face.mp4", jsonl_path=jsonl, should_stop=should_stop)
    assert report.frames == 5 and asked == [0, 1, 2, 3, 4, 5]
    assert report.error == "single_face.mp4: the server's limit"
    assert len(jsonl.read_text().splitlines()) == 5
