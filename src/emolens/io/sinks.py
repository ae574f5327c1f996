"""Sinks for results and frames: JSON Lines, CSV, a browser-playable video file, an in-memory list, and a
per-track summary.

The result sinks follow one protocol, which `emolens.video.run` feeds: `append(result, image)` once per frame,
then `close()`; a sink that does not draw ignores the image. All are context managers; each that writes a file
names it in the MediaError it raises.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

import cv2
import numpy as np

from emolens.errors import MediaError
from emolens.io.closing import ClosesOnExit
from emolens.types import EMOTIONS, LANDMARK_COLUMNS, PROB_COLUMNS, FrameResult, flat_landmarks

log = logging.getLogger(__name__)


#: The CSV header; the face columns are named as in the batch's Parquet (docs/outputs.md).
CSV_COLUMNS: tuple[str, ...] = (
    "frame", "time_s", "track_id", "x1", "y1", "x2", "y2", "score", "emotion", *PROB_COLUMNS, *LANDMARK_COLUMNS,
)  # fmt: skip


class _TextSink(ClosesOnExit):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = self.path.open("w", encoding="utf-8", newline="")
        except OSError as err:
            raise MediaError(f"{self.path}: cannot write ({err.strerror or err})") from err

    def close(self) -> None:
        self._fh.close()


class JsonlSink(_TextSink):
    """One JSON object per frame: FrameResult.to_dict().

    Args:
        path: The .jsonl file to write; missing parent folders are created, an existing file replaced.

    Raises:
        MediaError: If the file cannot be created.
    """

    def append(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Write one frame's result as one line.

        Args:
            result: The frame, with every face found in it.
            image: The frame's pixels; not used (the result sinks' common signature).
        """
        self._fh.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")


class CsvSink(_TextSink):
    """One row per face per frame (a frame without faces writes no row); columns CSV_COLUMNS.

    The header row is written on opening; an absent track id, score or landmark is an empty cell.

    Args:
        path: The .csv file to write; missing parent folders are created, an existing file replaced.

    Raises:
        MediaError: If the file cannot be created.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._writer = csv.writer(self._fh)
        self._writer.writerow(CSV_COLUMNS)

    def append(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Write a row for each face of one frame, in CSV_COLUMNS order.

        Args:
            result: The frame, with every face found in it.
            image: The frame's pixels; not used (the result sinks' common signature).
        """
        for face in result.faces:
            self._writer.writerow(
                [
                    result.frame_index,
                    f"{result.time_s:.4f}",
                    "" if face.track_id is None else face.track_id,
                    *face.box.xyxy(),
                    "" if face.score is None else f"{face.score:.4f}",
                    face.emotion,
                    *(f"{p:.4f}" for p in face.probs),
                    *("" if v is None else f"{v:.2f}" for v in flat_landmarks(face.landmarks)),
                ]
            )


class ResultList(ClosesOnExit):
    """Every frame's result, kept in memory in order: what the REST clip route answers and the timelines chart.

    A long video's results pile up here, so only callers that need them all (a capped clip, timelines) use it.
    """

    def __init__(self) -> None:
        self.results: list[FrameResult] = []

    def append(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Keep one frame's result.

        Args:
            result: The frame, with every face found in it.
            image: The frame's pixels; not kept.
        """
        self.results.append(result)

    def close(self) -> None:
        """Nothing to release; the results stay readable."""


@dataclass(frozen=True)
class TrackStats:
    """One tracked face over a video: in how many frames each emotion was its top one, and for how many seconds.

    Both tuples are in EMOTIONS order.
    """

    track_id: int
    frames_per_emotion: tuple[int, ...]
    seconds_per_emotion: tuple[float, ...]

    @property
    def frames(self) -> int:
        """Frames the track was seen in."""
        return sum(self.frames_per_emotion)

    def shares_pct(self) -> tuple[float, ...]:
        """The share of the track's frames (percent, one decimal) in which each emotion was the top one.

        Returns:
            One percentage per emotion, in EMOTIONS order.
        """
        seen = self.frames
        return tuple(round(100.0 * count / seen, 1) for count in self.frames_per_emotion)


class TrackSummary(ClosesOnExit):
    """Counts of a run (frames, faces) and each track's frames and seconds per top emotion, computed once for
    the web's tracks table, batch's sources row, the timelines and the CLI's summary line.

    A frame lasts `frame_s` (1 / the container's frame rate) when known, else the time since the previous frame.

    Args:
        frame_s: Seconds per frame; None to measure each frame's duration from the timestamps.
    """

    def __init__(self, frame_s: float | None = None) -> None:
        self.frame_s = frame_s
        self.frames = 0
        self.faces = 0
        self.last_time_s = 0.0
        self._frames: dict[int, list[int]] = {}
        self._seconds: dict[int, list[float]] = {}

    def append(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Count one frame, its faces, and for each tracked face its top emotion and the frame's duration.

        Args:
            result: The frame, with every face found in it.
            image: The frame's pixels; not used.
        """
        step_s = self.frame_s if self.frame_s is not None else max(0.0, result.time_s - self.last_time_s)
        self.last_time_s = result.time_s
        self.frames += 1
        self.faces += len(result.faces)
        for face in result.faces:
            if face.track_id is None:
                continue
            top = int(np.argmax(face.probs))  # FaceResult.emotion's index
            if face.track_id not in self._frames:
                self._frames[face.track_id] = [0] * len(EMOTIONS)
                self._seconds[face.track_id] = [0.0] * len(EMOTIONS)
            self._frames[face.track_id][top] += 1
            self._seconds[face.track_id][top] += step_s

    def close(self) -> None:
        """Nothing to release; the summary stays readable."""

    @property
    def duration_s(self) -> float:
        """The video's length as read: frames times `frame_s`, or the last frame's timestamp without it."""
        return self.frames * self.frame_s if self.frame_s is not None else self.last_time_s

    @property
    def track_ids(self) -> tuple[int, ...]:
        """Every track id seen, ascending."""
        return tuple(sorted(self._frames))

    def tracks(self) -> tuple[TrackStats, ...]:
        """Each track's statistics, by id.

        Returns:
            One TrackStats per track id seen, ascending.
        """
        return tuple(
            TrackStats(track, tuple(self._frames[track]), tuple(self._seconds[track])) for track in self.track_ids
        )


class VideoSink(ClosesOnExit):
    """Writes BGR frames to `.mp4` (H.264, yuv420p, faststart) or `.webm` (VP9), which browsers play.

    Encoding runs in the ffmpeg binary bundled with imageio-ffmpeg, fed raw frames through a pipe: the
    OpenCV wheels cannot write H.264, and their VP9 encoder runs at ~5 fps at 640x360. Without
    imageio-ffmpeg a `.webm` still works through OpenCV (slowly); an `.mp4` then raises MediaError.

    With `audio_from`, closing copies that file's sound into the video (`copy_audio`): the frames drawn from
    a clip keep the clip's audio. Where that fails the silent video is kept and one warning logged.

    Args:
        path: The .mp4 or .webm file to write; missing parent folders are created.
        fps: Frames per second of the output; 0 or less means 25.
        size_px: (width, height) of every frame; odd sides are padded by one pixel for the encoder.
        audio_from: A media file whose audio streams (if it has any) the finished video gets; None: silent.

    Raises:
        MediaError: If the suffix is neither .mp4 nor .webm, the size is not positive, the folder cannot
            be created, or no encoder for the format can be started.
    """

    _CODECS: ClassVar[dict[str, tuple[str, ...]]] = {
        ".mp4": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                 "-movflags", "+faststart"),
        ".webm": ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
                  "-b:v", "0", "-crf", "33", "-pix_fmt", "yuv420p"),
    }  # fmt: skip

    def __init__(
        self, path: str | Path, fps: float, size_px: tuple[int, int], audio_from: str | Path | None = None
    ) -> None:
        self.path = Path(path)
        self.audio_from = None if audio_from is None else Path(audio_from)
        self.fps = fps if fps > 0 else 25.0
        self.size_px = size_px
        self.frames_written = 0
        suffix = self.path.suffix.lower()
        if suffix not in self._CODECS:
            raise MediaError(f"{self.path}: video output must end in .mp4 (H.264) or .webm (VP9)")
        width, height = size_px
        if width <= 0 or height <= 0:
            raise MediaError(f"{self.path}: invalid frame size {size_px}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise MediaError(f"{self.path}: cannot write ({err.strerror or err})") from err
        self._proc: subprocess.Popen[bytes] | None = None
        self._yuv = False
        self._cv_writer: cv2.VideoWriter | None = None
        exe = _ffmpeg_exe()
        if exe is not None:
            self._proc = self._start_ffmpeg(exe, suffix)
        elif suffix == ".webm":
            self._cv_writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"VP90"), self.fps, size_px)
            if not self._cv_writer.isOpened():
                raise MediaError(f"{self.path}: OpenCV cannot write VP9 here; install imageio-ffmpeg")
        else:
            raise MediaError(f"{self.path}: writing H.264 needs the imageio-ffmpeg package (or choose .webm)")

    def _start_ffmpeg(self, exe: str, suffix: str) -> subprocess.Popen[bytes]:
        width, height = self.size_px
        # yuv420p needs even sides; pad by one pixel rather than fail on odd camera sizes.
        pad = ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"] if width % 2 or height % 2 else []
        # Even sides: frames go down the pipe already in the encoder's yuv420p, converted by OpenCV (a fraction
        # of a millisecond), which halves the bytes piped and spares ffmpeg its own slower conversion.
        self._yuv = not pad
        cmd = [
            exe, "-y", "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "yuv420p" if self._yuv else "bgr24", "-s", f"{width}x{height}",
            "-r", f"{self.fps:.6f}", "-i", "-",
            "-an", *pad, *self._CODECS[suffix], str(self.path),
        ]  # fmt: skip
        try:
            return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as err:
            raise MediaError(f"{self.path}: cannot start the video encoder ({err})") from err

    def write(self, image: np.ndarray) -> None:
        """Encode one frame.

        Args:
            image: A uint8 frame of exactly `size_px`: BGR (H, W, 3), BGRA (H, W, 4) or grayscale (H, W).

        Raises:
            MediaError: If the frame's size or dtype does not match, or the encoder has stopped.
        """
        if image.shape[:2] != (self.size_px[1], self.size_px[0]) or image.dtype != np.uint8:
            raise MediaError(f"{self.path}: frame {image.shape} {image.dtype} does not match size {self.size_px} uint8")
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if self._proc is not None:
            assert self._proc.stdin is not None
            data = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420) if self._yuv else image)
            try:
                self._proc.stdin.write(data.data)  # the array's buffer, no copy
            except BrokenPipeError as err:
                raise MediaError(f"{self.path}: the video encoder stopped: {self._stderr_tail()}") from err
        elif self._cv_writer is not None:
            self._cv_writer.write(image)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and wait for the encoder; calling it again does nothing.

        Raises:
            MediaError: If the encoder failed after frames were written (its last error line is named).
        """
        if self._cv_writer is not None:
            self._cv_writer.release()
            self._cv_writer = None
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        returncode = proc.wait()
        message = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        if proc.stderr is not None:
            proc.stderr.close()
        if returncode != 0 and self.frames_written:
            raise MediaError(
                f"{self.path}: the video encoder failed: {message.splitlines()[-1] if message else returncode}"
            )
        if self.audio_from is not None and self.frames_written:
            copy_audio(self.path, self.audio_from, self.frames_written / self.fps)

    def _stderr_tail(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return "unknown error"
        self._proc.wait()
        lines = self._proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self._proc.returncode}"


#: Audio codec per container when the source's sound is copied in: what browsers play in each.
_AUDIO_CODECS: dict[str, tuple[str, ...]] = {
    ".mp4": ("-c:a", "aac", "-movflags", "+faststart"),
    ".webm": ("-c:a", "libopus"),
}
_AUDIO_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*: Audio: ", re.MULTILINE)


def has_audio(path: str | Path) -> bool:
    """Whether a media file has an audio stream, as the bundled ffmpeg reads its header.

    Args:
        path: the file.

    Returns:
        True when ffmpeg lists an audio stream in it; False without one, without imageio-ffmpeg, or for a
        file ffmpeg cannot open.
    """
    exe = _ffmpeg_exe()
    if exe is None:
        return False
    try:
        # `ffmpeg -i FILE` with no output describes the file's streams on stderr (ffprobe is not bundled).
        probe = subprocess.run(
            [exe, "-nostdin", "-hide_banner", "-i", _ffmpeg_name(path)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return _AUDIO_STREAM.search(probe.stderr.decode("utf-8", "replace")) is not None


def copy_audio(video_path: str | Path, source_path: str | Path, duration_s: float | None = None) -> bool:
    """Give a finished (silent) .mp4 or .webm the audio streams of the file its frames came from.

    ffmpeg remuxes: the video stream is copied as it is, the audio encoded to AAC (.mp4) or Opus (.webm) and
    cut at `duration_s` (a run stopped early keeps the sound of its frames only). Not `-shortest`: a clip
    whose sound ends first (a truncated file) would lose its last frames. Only a source with an audio stream
    is remuxed. Any failure leaves the silent video as it was and logs one warning: losing the sound must
    never lose the video.

    Args:
        video_path: the video to add sound to; replaced (atomically) on success.
        source_path: the original clip.
        duration_s: the video's length (frames / fps); the sound is cut there. None keeps all of it.

    Returns:
        True when the video now has the source's audio; False when the source has none or copying failed.
    """
    video, exe = Path(video_path), _ffmpeg_exe()
    codec = _AUDIO_CODECS.get(video.suffix.lower())
    if exe is None or codec is None or not has_audio(source_path):
        return False
    tmp = video.with_name(f".{video.stem}.audio{video.suffix}")
    cmd = [
        exe, "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
        "-i", _ffmpeg_name(video), "-i", _ffmpeg_name(source_path),
        "-map", "0:v", "-map", "1:a?", "-c:v", "copy", *codec,
        *(("-t", f"{duration_s:.6f}") if duration_s is not None else ()), _ffmpeg_name(tmp),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if done.returncode == 0 and tmp.stat().st_size > 0:
            os.replace(tmp, video)
            return True
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exit status {done.returncode}"
    except OSError as err:
        reason = str(err)
    finally:  # a half-written copy goes, whatever stopped it (Ctrl-C included)
        with contextlib.suppress(OSError):
            tmp.unlink()
    log.warning("%s: written without sound: copying the audio of %s failed (%s)", video, source_path, reason)
    return False


def _ffmpeg_name(path: str | Path) -> str:
    """`path` as ffmpeg must be given it: absolute, so that a name like `pipe:1.mp4` is a file, not a protocol."""
    return str(Path(path).absolute())


def h264_available() -> bool:
    """Whether VideoSink can write H.264 .mp4 here (it needs imageio-ffmpeg's bundled ffmpeg).

    Returns:
        True when imageio-ffmpeg is installed and has an ffmpeg binary for this platform.
    """
    return _ffmpeg_exe() is not None


def _ffmpeg_exe() -> str | None:
    """The bundled ffmpeg binary, or None without imageio-ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        log.debug("imageio-ffmpeg is installed but has no ffmpeg binary for this platform")
        return None
