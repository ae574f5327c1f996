"""What the UI's tabs do with a frame, a photo or a clip; plain functions over the shared Recognizer.

Images arrive from Gradio as RGB; emolens works in BGR as OpenCV reads, so each handler converts at its edges.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emolens.api import Recognizer, VideoStream
from emolens.errors import EmolensError
from emolens.io.sinks import h264_available
from emolens.labels import display_name, display_names
from emolens.render import annotate, load_label_atlas
from emolens.types import EMOTIONS, FrameResult
from emolens.video import analyze_video

from .limits import WorkPool

#: Weight of the newest frame interval in the displayed frame rate.
_FPS_ALPHA = 0.2


@dataclass
class CameraSession:
    """One browser tab's webcam state: its own tracker and smoother, and the frame clock."""

    stream: VideoStream
    started_s: float = field(default_factory=time.monotonic)
    frames: int = 0
    last_frame_s: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class PhotoOutput:
    annotated_rgb: np.ndarray
    table_rows: list[list[object]]
    bars: list[tuple[str, str, float]]  # (bar label, face, probability)
    json_path: Path
    summary: str


@dataclass(frozen=True)
class VideoOutput:
    annotated_path: Path
    timeline_paths: list[Path]
    download_paths: list[Path]
    summary: str


class Handlers:
    """The UI's work, bound to one Recognizer, the shared worker pool and a folder for result files."""

    def __init__(self, recognizer: Recognizer, pool: WorkPool, work_dir: Path) -> None:
        self.recognizer = recognizer
        self.pool = pool
        self.work_dir = work_dir
        self.atlas = load_label_atlas()  # read once: camera frames arrive many times a second

    def camera_frame(
        self, frame_rgb: np.ndarray, session: CameraSession | None, lang: str
    ) -> tuple[np.ndarray, CameraSession, str]:
        """One webcam frame -> the annotated frame, the session, a readout of faces and server time."""
        session = session or CameraSession(self.recognizer.stream())
        now_s = time.monotonic()
        if session.last_frame_s is not None and now_s > session.last_frame_s:
            rate = 1.0 / (now_s - session.last_frame_s)
            session.fps = rate if session.fps is None else (1 - _FPS_ALPHA) * session.fps + _FPS_ALPHA * rate
        session.last_frame_s = now_s
        bgr = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        start_s = time.perf_counter()
        result = self.pool.call(session.stream.process, bgr, now_s - session.started_s, session.frames)
        server_ms = (time.perf_counter() - start_s) * 1000.0
        session.frames += 1
        annotated = annotate(bgr, result, lang=lang, fps=session.fps, atlas=self.atlas)
        return (
            cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB),
            session,
            _camera_readout(result, lang, server_ms, session.fps),
        )

    def photo(self, image_bgr: np.ndarray, name: str, lang: str) -> PhotoOutput:
        result = self.pool.call(self.recognizer.analyze, image_bgr)
        annotated = annotate(image_bgr, result, lang=lang, atlas=self.atlas)
        names = display_names(lang)
        rows: list[list[object]] = []
        bars: list[tuple[str, str, float]] = []
        for number, face in enumerate(result.faces, start=1):
            rows.append(
                [number, display_name(face.emotion, lang), round(face.confidence, 3), str(face.box.xyxy())]
                + [round(float(p), 3) for p in face.probs]
            )
            bars.extend((f"{number} · {names[i]}", f"face {number}", float(p)) for i, p in enumerate(face.probs))
        out_dir = self._new_dir()
        json_path = out_dir / f"{Path(name).stem or 'photo'}.emolens.json"
        json_path.write_text(json.dumps({"file": name, "faces": [f.to_dict() for f in result.faces]}, indent=2))
        summary = _faces_summary(result, lang)
        return PhotoOutput(cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB), rows, bars, json_path, summary)

    def video(self, path: Path, lang: str, on_progress: Callable[[int, int | None], None] | None) -> VideoOutput:
        out_dir = self._new_dir()
        stem = path.stem or "video"
        annotated = out_dir / f"{stem}-annotated{_browser_video_suffix()}"
        csv_path, jsonl_path, timeline_dir = out_dir / f"{stem}.csv", out_dir / f"{stem}.jsonl", out_dir / "timelines"
        report = self.pool.call(
            lambda: analyze_video(
                self.recognizer,
                path,
                annotated_path=annotated,
                jsonl_path=jsonl_path,
                csv_path=csv_path,
                timeline_dir=timeline_dir,
                lang=lang,
                on_progress=on_progress,
            )
        )
        if report.frames == 0:
            raise EmolensError(
                f"{path.name}: no frames could be decoded" + (f" ({report.error})" if report.error else "")
            )
        summary = (
            f"{report.frames} frames, {report.faces} face detections, {len(report.track_ids)} tracked face(s), "
            f"analysed in {report.seconds:.1f} s ({report.fps:.1f} frames/s)"
        )
        if report.error:
            summary += f"  \n⚠ {report.error}"
        timelines = list(report.timeline_paths)
        downloads = [p for p in (csv_path, jsonl_path) if p.exists()]
        return VideoOutput(annotated, timelines, downloads, summary)

    def _new_dir(self) -> Path:
        out = self.work_dir / uuid.uuid4().hex
        out.mkdir(parents=True)
        return out


def _browser_video_suffix() -> str:
    # Without the ffmpeg that imageio-ffmpeg bundles, OpenCV still writes VP9 WebM; both play in every browser.
    return ".mp4" if h264_available() else ".webm"


def _faces_summary(result: FrameResult, lang: str) -> str:
    if not result.faces:
        return "No face found."
    parts = [f"face {i}: **{display_name(f.emotion, lang)}** {f.confidence:.0%}" for i, f in enumerate(result.faces, 1)]
    return f"{len(result.faces)} face(s) — " + ", ".join(parts)


def _camera_readout(result: FrameResult, lang: str, server_ms: float, fps: float | None) -> str:
    faces = ", ".join(display_name(f.emotion, lang) for f in result.faces) or "no face"
    rate = f" · {fps:.1f} frames/s" if fps else ""
    return f"{faces} · server {server_ms:.0f} ms{rate}"


def table_headers(lang: str) -> list[str]:
    return ["face", "emotion", "confidence", "box x1,y1,x2,y2", *display_names(lang)]


def bar_order(face_count: int, lang: str) -> list[str]:
    names = display_names(lang)
    return [f"{n} · {names[i]}" for n in range(1, face_count + 1) for i in range(len(EMOTIONS))]
