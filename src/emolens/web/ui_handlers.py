"""What the UI's tabs do with a frame, a photo or a clip; plain functions over the shared Recognizer.

Images arrive from Gradio as RGB; emolens works in BGR as OpenCV reads, so each handler converts at its edges.
Every word they return comes from `ui_text` in the language asked for.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from emolens.api import Recognizer, VideoStream
from emolens.errors import EmolensError
from emolens.framerate import FrameRate
from emolens.io.images import read_image
from emolens.io.media import IMAGE_SUFFIXES, is_video_name
from emolens.io.sinks import TrackStats, VideoSink, h264_available
from emolens.io.sources import VideoFileSource
from emolens.labels import display_name, display_names
from emolens.render import LabelAtlas, RenderOptions, annotate, face_numbers, faces_chart, load_label_atlas
from emolens.types import FrameResult
from emolens.video import VideoReport, analyze_video, frame_cap, stop_when

from .options import WebOptions
from .pool import Cancel, WorkPool
from .sniff import is_image, video_suffix
from .ui_text import text
from .uploads import uploaded_file

log = logging.getLogger("emolens")
#: Bytes of an upload read to tell an image from a video (a transport stream needs 189).
_SNIFF_BYTES = 512
#: Width of one face's chart on a phone: about the page's width there, so its text reads at its own size.
NARROW_CHART_PX = 400


class Cancelled(EmolensError):
    """The user pressed Stop, or the browser went away, while a video was being analysed."""


@dataclass
class _Stop:
    """One video run's stop signal, set from another thread (Stop pressed, the client gone) with its reason."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = "stopped"


@dataclass
class CameraSession:
    """One browser tab's webcam state: its own tracker and smoother, and the frame clock."""

    stream: VideoStream
    started_s: float = field(default_factory=time.monotonic)
    frames: int = 0
    rate: FrameRate = field(default_factory=FrameRate)


@dataclass(frozen=True)
class PhotoOutput:
    """What the Photo tab shows: the annotated picture and the face charts (RGB, as Gradio wants; three to a
    row for a wide page, one to a row for a phone), the table's rows, the JSON file to download and a summary."""

    annotated_rgb: np.ndarray
    table_rows: list[list[object]]
    chart_rgb: np.ndarray
    narrow_chart_rgb: np.ndarray
    json_path: Path
    summary: str


@dataclass(frozen=True)
class VideoOutput:
    """What the Video tab shows: the annotated clip, the stacked timelines (None without a track), the
    per-track table's rows, the CSV and JSONL to download and a summary."""

    annotated_path: Path
    timeline_path: Path | None
    track_rows: list[list[object]]
    download_paths: list[Path]
    summary: str


class Handlers:
    """The UI's work, bound to one Recognizer, the shared worker pool and a folder for result files."""

    def __init__(
        self,
        recognizer: Recognizer,
        pool: WorkPool,
        work_dir: Path,
        options: WebOptions | None = None,
        upload_dir: Path | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.pool = pool
        self.work_dir = work_dir
        self.options = options or WebOptions()
        self.upload_dir = upload_dir  # None: the caller vouches for every path (tests)
        self.atlas = load_label_atlas()  # read once: camera frames arrive many times a second
        self._stops: dict[str, _Stop] = {}
        self._stops_lock = threading.Lock()

    def camera_frame(
        self, frame_rgb: np.ndarray, session: CameraSession | None, lang: str
    ) -> tuple[np.ndarray, CameraSession, str]:
        """One webcam frame -> the annotated frame, the session, a readout of faces and server time.

        Args:
            frame_rgb: the frame as the browser sent it, RGB uint8.
            session: this browser tab's stream state; None on its first frame.
            lang: the language of the labels.

        Returns:
            The annotated frame (RGB), the session to pass back with the next frame, and the readout line.

        Raises:
            InputTooLargeError: If the frame is over the server's pixel limit per frame.
        """
        self.options.check_frame_size(frame_rgb.shape[1::-1], "camera frame")
        session = session or CameraSession(self.recognizer.stream())
        now_s = time.monotonic()
        fps = session.rate.tick(now_s)
        bgr = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        start_s = time.perf_counter()
        result = self.pool.call(session.stream.process, bgr, now_s - session.started_s, session.frames)
        server_ms = (time.perf_counter() - start_s) * 1000.0
        session.frames += 1
        annotated = annotate(bgr, result, lang=lang, fps=fps, atlas=self.atlas)
        return cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB), session, _camera_readout(result, lang, server_ms, fps)

    def photo(
        self, image_bgr: np.ndarray, name: str, lang: str, *, labels_only: bool = RenderOptions.labels_only
    ) -> PhotoOutput:
        """One photo -> the annotated picture, a row per face, one chart per face, a JSON file, a summary.

        Args:
            image_bgr: the decoded photo (see `read_upload`).
            name: the upload's name, for the log and the JSON file's name.
            lang: the language of the labels, table and summary.
            labels_only: draw only each face's box and numbered label, no probability panel.

        Returns:
            Everything the Photo tab shows.
        """
        result = self.pool.call(self.recognizer.analyze, image_bgr)
        log.info("photo %s: %d face(s)", name, len(result.faces))
        annotated = annotate(image_bgr, result, lang=lang, atlas=self.atlas, labels_only=labels_only)
        rows = [
            [number, display_name(face.emotion, lang), round(face.confidence, 3), str(face.box.xyxy())]
            + [round(float(p), 3) for p in face.probs]
            for number, face in zip(face_numbers(result), result.faces, strict=True)
        ]
        chart = faces_chart(result, lang, atlas=self.atlas)
        narrow = narrow_faces_chart(result, lang, atlas=self.atlas)
        out_dir = self._new_dir()
        json_path = out_dir / f"{Path(name).stem or 'photo'}.emolens.json"
        json_path.write_text(json.dumps({"path": name, "faces": [f.to_dict() for f in result.faces]}, indent=2))
        return PhotoOutput(
            cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB),
            rows,
            cv2.cvtColor(chart, cv2.COLOR_BGR2RGB),
            cv2.cvtColor(narrow, cv2.COLOR_BGR2RGB),
            json_path,
            _faces_summary(result, lang),
        )

    def read_upload(self, path: str | Path) -> np.ndarray:
        """The uploaded image at `path`, only if it lies in the upload folder and is within the pixel limit.

        Args:
            path: the path the page sent back for the upload.

        Returns:
            The image, BGR uint8.

        Raises:
            MediaError: If the path lies outside the upload folder or is gone, or the file cannot be decoded
                (InputTooLargeError when over the limits).
        """
        return read_image(self._checked(path), max_pixels=self.options.max_pixels)

    def upload_kind(self, path: str | Path) -> str | None:
        """What an upload is by its first bytes, for the hint a file in the wrong tab gets.

        Args:
            path: the path the page sent back for the upload.

        Returns:
            "image", "video", or None when it is neither (or unreadable: the analysis says why).
        """
        try:
            with self._checked(path).open("rb") as file:
                head = file.read(_SNIFF_BYTES)
        except (OSError, EmolensError):
            return None
        return "image" if is_image(head) else "video" if video_suffix(head) else None

    def _checked(self, path: str | Path) -> Path:
        return uploaded_file(path, self.upload_dir) if self.upload_dir is not None else Path(path)

    def video(
        self,
        path: Path,
        lang: str,
        on_progress: Callable[[int, int | None], None] | None,
        session: str = "",
    ) -> VideoOutput:
        """One clip -> annotated video, a stacked timeline image, per-track shares, CSV and JSONL, a summary.

        At most `max_video_frames` frames and `request_timeout_s` seconds are spent on it; the summary says
        when either limit cut it short.

        Args:
            path: the uploaded clip (it must lie in the upload folder).
            lang: the language of the labels, timeline and summary.
            on_progress: called with (frames done, total or None) as frames are processed.
            session: the browser tab's id, for `stop`.

        Returns:
            Everything the Video tab shows.

        Raises:
            Cancelled: If `stop(session)` or `client_gone(session)` is called while it runs.
            MediaError: If the clip is outside the upload folder, cannot be opened, or its frames are over the
                pixel limit (InputTooLargeError).
            EmolensError: If no frame could be read.
        """
        stop = _Stop()  # fresh for each run: a Stop pressed earlier must not end this one
        with self._stops_lock:
            self._stops[session] = stop
        try:
            path = self._checked(path)
            cancel = Cancel(self.options.request_timeout_s)

            def stop_pressed(frames_done: int) -> str | None:
                if stop.event.is_set():
                    raise Cancelled(f"{path.name}: {stop.reason} at frame {frames_done}")
                return None

            should_stop = stop_when(
                stop_pressed,
                frame_cap(self.options.max_video_frames, "server limit"),
                lambda _frames_done: cancel.reason(),
                self.pool.memory_mark,
            )
            out_dir = self._new_dir()
            stem = path.stem or "video"
            annotated = out_dir / f"{stem}-annotated{_browser_video_suffix()}"
            csv_path, jsonl_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.jsonl"

            def analyze() -> VideoReport:
                # Opened once: its frame size is checked against the server's limit, then the same reader runs.
                with VideoFileSource(path) as source:
                    self.options.check_frame_size(source.size_px, path.name)
                    return analyze_video(
                        self.recognizer,
                        source,
                        annotated_path=annotated,
                        jsonl_path=jsonl_path,
                        csv_path=csv_path,
                        timeline_dir=out_dir / "timelines",
                        lang=lang,
                        on_progress=on_progress,
                        should_stop=should_stop,
                    )

            report = self.pool.call(analyze, heavy=True)
        except Cancelled as err:
            log.info("video %s", err)
            raise
        finally:
            with self._stops_lock:
                if self._stops.get(session) is stop:
                    self._stops.pop(session)
        if report.frames == 0:
            raise EmolensError(text("no_frames", lang, name=path.name) + (f" ({report.error})" if report.error else ""))
        summary = text(
            "video_summary",
            lang,
            frames=report.frames,
            faces=report.faces,
            tracks=len(report.track_ids),
            seconds=f"{report.seconds:.1f}",
            fps=f"{report.fps:.1f}",
        )
        if report.error:
            summary += f"  \n⚠ {report.error}"
        downloads = [p for p in (csv_path, jsonl_path) if p.exists()]
        timeline = _stack_images(list(report.timeline_paths), out_dir / "timelines.png")
        return VideoOutput(annotated, timeline, track_shares(report.tracks), downloads, summary)

    def stop(self, session: str, reason: str = "stopped") -> None:
        """Ask the video analysis of `session` (a browser tab) to stop at its next frame; nothing if none runs.

        Args:
            session: the browser tab's id, as given to `video`.
            reason: what the log and the Cancelled message say stopped it.
        """
        with self._stops_lock:
            running = self._stops.get(session)
        if running is not None:
            running.reason = reason
            running.event.set()

    def client_gone(self, session: str) -> None:
        """The browser of `session` went away: its video analysis stops at the next frame, freeing the worker.

        Args:
            session: the browser tab's id, as given to `video`.
        """
        self.stop(session, "the client disconnected; stopped")

    def _new_dir(self) -> Path:
        out = self.work_dir / uuid.uuid4().hex
        out.mkdir(parents=True)
        return out


#: The example clip the Video tab offers: frames, frame rate and side of a slow zoom into the shipped portrait.
EXAMPLE_CLIP_FRAMES, EXAMPLE_CLIP_FPS, EXAMPLE_CLIP_SIDE_PX = 48, 24.0, 480


def make_example_clip(portrait: Path, out_dir: Path) -> Path:
    """A 2-second clip made here from the shipped portrait (a slow zoom towards the face), so the Video
    tab has an example that ships with the package without shipping a video.

    Args:
        portrait: the shipped picture to zoom into.
        out_dir: where to write the clip.

    Returns:
        The clip's path: .mp4 (H.264) where the bundled ffmpeg exists, else .webm.

    Raises:
        EmolensError: If the picture is missing or unreadable.
        MediaError: If the clip cannot be written.
    """
    image = cv2.imread(str(portrait))
    if image is None:
        raise EmolensError(f"{portrait.name}: the example picture is missing or unreadable")
    height_px, width_px = image.shape[:2]
    side = min(height_px, width_px)
    out = out_dir / f"zoom{_browser_video_suffix()}"
    with VideoSink(out, EXAMPLE_CLIP_FPS, (EXAMPLE_CLIP_SIDE_PX, EXAMPLE_CLIP_SIDE_PX)) as sink:
        for i in range(EXAMPLE_CLIP_FRAMES):
            crop = round(side * (1.0 - 0.25 * i / EXAMPLE_CLIP_FRAMES))
            x0, y0 = (width_px - crop) // 2, max(0, (height_px - crop) // 3)
            frame = cv2.resize(image[y0 : y0 + crop, x0 : x0 + crop], (EXAMPLE_CLIP_SIDE_PX,) * 2)
            sink.write(frame)
    return out


def track_shares(tracks: Sequence[TrackStats]) -> list[list[object]]:
    """One row per tracked face of a video: its id, the frames it was seen in, and the share of those frames
    (percent) in which each emotion was the top one.

    Args:
        tracks: the video's per-track statistics (VideoReport.tracks).

    Returns:
        [track id, frames seen, then one percentage per emotion in EMOTIONS order] per track, in the given order.
    """
    return [[track.track_id, track.frames, *track.shares_pct()] for track in tracks]


def track_headers(lang: str) -> list[str]:
    """Column titles of the table `track_shares` fills, in `lang`.

    Args:
        lang: one of LANGUAGES.

    Returns:
        Track, frames, then "<emotion> %" for each emotion.
    """
    return [text("col_track", lang), text("col_frames", lang), *(f"{n} %" for n in display_names(lang))]


def wrong_tab_message(wrong_file: str, tab: str, lang: str) -> str:
    """The message a file of the wrong kind gets in a tab, from what the page's script saw of it.

    Args:
        wrong_file: JSON {"name", "type"} (the file's name and the browser's MIME type), as the page sends it;
            anything else counts as a nameless file.
        tab: "photo" or "video", the tab it was given to.
        lang: the language of the message.

    Returns:
        "⚠ NAME is a video: use the Video tab." (or the photo counterpart), or that the file is not a picture
        (not a clip) this tab reads.
    """
    try:
        seen = json.loads(wrong_file)
        name, mime = str(seen.get("name", "")), str(seen.get("type", ""))
    except (ValueError, AttributeError):
        name, mime = "", ""
    name = "".join(c if c.isprintable() else "?" for c in Path(name).name)[:200] or "file"
    suffix = Path(name).suffix.lower()
    if tab == "photo":
        if mime.startswith("video/") or is_video_name(name):
            return text("video_in_photo_tab", lang, name=name, tab=text("tab_video", lang))
        return text("not_a_photo", lang, name=name)
    if mime.startswith("image/") or suffix in IMAGE_SUFFIXES:
        return text("photo_in_video_tab", lang, name=name, tab=text("tab_photo", lang))
    return text("not_a_video", lang, name=name)


def narrow_faces_chart(result: FrameResult, lang: str, *, atlas: LabelAtlas) -> np.ndarray:
    """The faces' charts one under the other, NARROW_CHART_PX wide, for a phone (`faces_chart` puts three to
    a row, which a phone shrinks past reading). Each face keeps its number from the picture.

    Args:
        result: the faces to chart.
        lang: the language of the emotion names.
        atlas: the label atlas.

    Returns:
        A BGR image: one panel per face, stacked (one blank panel when there is no face).
    """
    numbered = [replace(face, track_id=n) for n, face in zip(face_numbers(result), result.faces, strict=True)]
    singles = [FrameResult((face,)) for face in numbered] or [FrameResult()]
    return np.vstack([faces_chart(one, lang, atlas=atlas, width_px=NARROW_CHART_PX) for one in singles])


def _stack_images(paths: list[Path], out: Path) -> Path | None:
    """The per-track timeline charts one above the other in one picture, so the page shows them full width."""
    images = [image for image in (cv2.imread(str(p)) for p in paths) if image is not None]
    if not images:
        return None
    width_px = max(image.shape[1] for image in images)
    padded = [cv2.copyMakeBorder(i, 0, 0, 0, width_px - i.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
              for i in images]  # fmt: skip
    if not cv2.imwrite(str(out), np.vstack(padded)):
        raise EmolensError(f"{out.name}: could not write the timeline image")
    return out


def _browser_video_suffix() -> str:
    # Without the ffmpeg that imageio-ffmpeg bundles, OpenCV still writes VP9 WebM; both play in every browser.
    return ".mp4" if h264_available() else ".webm"


def _faces_summary(result: FrameResult, lang: str) -> str:
    if not result.faces:
        return text("no_face", lang)
    parts = [
        f"{text('face', lang, n=number)}: **{display_name(f.emotion, lang)}** {f.confidence:.0%}"
        for number, f in zip(face_numbers(result), result.faces, strict=True)
    ]
    return f"{text('faces', lang, n=len(result.faces))} — " + ", ".join(parts)


def _camera_readout(result: FrameResult, lang: str, server_ms: float, fps: float | None) -> str:
    faces = ", ".join(display_name(f.emotion, lang) for f in result.faces) or text("nobody", lang)
    rate = f" · {text('fps', lang, fps=f'{fps:.1f}')}" if fps else ""
    return f"{faces} · {text('server', lang, ms=f'{server_ms:.0f}')}{rate}"


def table_headers(lang: str) -> list[str]:
    """Column titles of the Photo tab's table (the rows `Handlers.photo` makes), in `lang`.

    Args:
        lang: one of LANGUAGES.

    Returns:
        Face, emotion, confidence, box, then each emotion's name.
    """
    cols = ("col_face", "col_emotion", "col_confidence", "col_box")
    return [*(text(c, lang) for c in cols), *display_names(lang)]
