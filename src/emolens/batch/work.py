"""One input -> its face rows (in part files) and its sources row. Both engines run exactly this code.

A `Worker` loads the model once and then takes inputs one at a time; an input that cannot be read becomes a
row with the one-line error as its status, never an exception that would stop the other inputs.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emolens.api import Recognizer, RecognizerOptions
from emolens.batch.inputs import PHOTO_SUFFIXES
from emolens.batch.parquet import PartWriter, SourceRow, hold_arrow_to_one_thread
from emolens.errors import EmolensError, MediaError
from emolens.io.images import read_image
from emolens.io.sources import VideoFileSource
from emolens.runtime.registry import SHIPPED_MODELS
from emolens.types import EMOTIONS, FrameResult, flat_landmarks

# Leading bytes of the still-image formats OpenCV decodes; anything else is handed to the video reader.
_PHOTO_MAGIC: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*")
# Leading bytes of common video containers (MP4/MOV's "ftyp" sits at offset 4): Matroska/WebM, MPEG-PS, FLV, ASF.
_VIDEO_MAGIC: tuple[bytes, ...] = (b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"FLV", b"0&\xb2u")
_SNIFF_BYTES = 16


@dataclass(frozen=True)
class Task:
    """One input handed to a worker: its path, resume key, and size when the driver saw it."""

    path: str
    key: str
    size_bytes: int


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process or Ray actor needs (small and picklable)."""

    options: RecognizerOptions
    out_dir: str
    rows_per_part: int
    #: The note added when a worker cannot see a file the driver saw (Ray: not on a shared file system).
    shared_fs_note: str = ""


def sniff_kind(path: Path) -> str:
    """Whether `path` is a photo or a video, by the file's first bytes (its name is not trusted).

    Args:
        path: the input.

    Returns:
        "photo" for the still-image formats OpenCV decodes (and unknown bytes under a photo's suffix, so the
        image reader names the problem), else "video".

    Raises:
        MediaError: the path is not a regular file (a FIFO, a device, a folder), cannot be read, or is empty.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise MediaError(f"{path}: not a regular file")
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except MediaError:
        raise
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    except OSError as err:
        raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not head:
        raise MediaError(f"{path}: empty file")
    is_pnm = len(head) > 2 and head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace()
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if head.startswith(_PHOTO_MAGIC) or is_pnm or is_webp:
        return "photo"
    is_video = head[4:8] == b"ftyp" or head.startswith(_VIDEO_MAGIC) or (head[:4] == b"RIFF" and head[8:11] == b"AVI")
    # Unknown bytes under a photo's name: the image reader's error ("not a readable image") says it best.
    return "photo" if not is_video and path.suffix.lower() in PHOTO_SUFFIXES else "video"


def hold_thread_pools_to_one() -> None:
    """Every thread pool of this process to one thread: the worker processes (or actors) are the parallelism.

    A second thread in any library (OpenCV, Arrow) would only take time from the other workers, which already keep
    every core busy; onnxruntime follows the `threads` option (the face detector always runs on one) and FFmpeg's
    decoder is held to one thread where each video is opened; nothing per frame calls numpy's BLAS.
    Call it in a worker process, never in a process that does other work.
    """
    cv2.setNumThreads(1)
    hold_arrow_to_one_thread()


def model_label(options: RecognizerOptions) -> str:
    """The model's name in the rows: a shipped model's short name, else the file's name.

    Args:
        options: the recognizer options.

    Returns:
        "fast", "accurate" or a file name.
    """
    model = options.model
    return model if isinstance(model, str) and model in SHIPPED_MODELS else Path(model).name


class Worker:
    """Loads the model once; `process` turns one input into committed part files and its SourceRow."""

    def __init__(self, config: WorkerConfig) -> None:
        hold_thread_pools_to_one()
        self.config = config
        self.out_dir = Path(config.out_dir)
        self.recognizer = Recognizer(config.options)
        self.model = model_label(config.options)
        self.detector = self.recognizer.detector.name  # the detector that ran ("auto" resolved: cnn or haar)

    def process(self, task: Task) -> SourceRow:
        """Every frame of one input; failures become the row's status (rows already made are kept).

        Args:
            task: the input, with its key (which names its part files).

        Returns:
            Its sources row; its part files are in faces/ by then.
        """
        started = time.perf_counter()
        path = Path(task.path)
        writer = PartWriter(self.out_dir, task.key, self.config.rows_per_part)
        kind: str | None = None
        counts = _Counts()
        try:
            kind = sniff_kind(path)
            read = self._photo if kind == "photo" else self._video
            status = read(path, writer, counts)
        except (EmolensError, OSError, ValueError, cv2.error) as err:
            status = _one_line(err)
            if isinstance(err, MediaError) and "no such file" in status and self.config.shared_fs_note:
                status = f"{status} on {socket.gethostname()} ({self.config.shared_fs_note})"
        writer.commit()
        return SourceRow(
            source=task.path,
            status=status,
            kind=kind,
            size_bytes=task.size_bytes,
            frames=counts.frames,
            duration_s=counts.duration_s if kind == "video" else None,
            faces=counts.faces,
            tracks=len(counts.track_s) if kind == "video" else None,
            track_emotion_s=tuple((track, tuple(seconds)) for track, seconds in sorted(counts.track_s.items())),
            wall_s=time.perf_counter() - started,
            model=self.model,
            detector=self.detector,
        )

    def _photo(self, path: Path, writer: PartWriter, counts: _Counts) -> str:
        result = self.recognizer.analyze(read_image(path))
        self._append(str(path), result, writer, counts)
        return "ok"

    def _video(self, path: Path, writer: PartWriter, counts: _Counts) -> str:
        stream = self.recognizer.stream()
        source_name = str(path)
        last_time_s = 0.0
        with VideoFileSource(path, decoder_threads=1) as source:
            frame_s = 1.0 / source.fps if source.fps else None
            for frame in source:  # one frame in memory at a time; rows go to bounded part files
                result = stream.process(frame.image, frame.time_s, frame.index)
                self._append(source_name, result, writer, counts)
                step_s = frame_s if frame_s is not None else max(0.0, frame.time_s - last_time_s)
                last_time_s = frame.time_s
                for face in result.faces:
                    if face.track_id is not None:
                        counts.track_s[face.track_id][int(np.argmax(face.probs))] += step_s
            counts.duration_s = counts.frames * frame_s if frame_s is not None else last_time_s
            error = source.error
        return "ok" if error is None else _one_line(error)

    def _append(self, source: str, result: FrameResult, writer: PartWriter, counts: _Counts) -> None:
        counts.frames += 1
        for face in result.faces:
            counts.faces += 1
            writer.append(
                (
                    source,
                    result.frame_index,
                    result.time_s,
                    face.track_id,
                    *face.box.xyxy(),
                    face.score,
                    face.emotion,
                    *face.probs,
                    *flat_landmarks(face.landmarks),
                    self.model,
                    self.detector,
                )
            )

    def can_read(self, path: str) -> str | None:
        """Whether this worker sees `path` (a file or folder).

        Args:
            path: an absolute path the driver sees.

        Returns:
            None, or a one-line reason naming the path and this host.
        """
        if os.access(path, os.R_OK):
            return None
        return f"{path}: not readable on worker host {socket.gethostname()} ({self.config.shared_fs_note})"


class _Counts:
    def __init__(self) -> None:
        self.frames = 0
        self.faces = 0
        self.duration_s = 0.0
        self.track_s: defaultdict[int, list[float]] = defaultdict(lambda: [0.0] * len(EMOTIONS))


def _one_line(error: object) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
