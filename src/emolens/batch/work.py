"""One input -> its face rows (in part files) and its sources row. Both engines run exactly this code.

A `Worker` loads the model once and then takes inputs one at a time; an input that cannot be read becomes a
row with the one-line error as its status, never an exception that would stop the other inputs.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emolens.api import Recognizer, RecognizerOptions
from emolens.batch.parquet import PartWriter, SourceRow, hold_arrow_to_one_thread
from emolens.errors import EmolensError, MediaError
from emolens.io.images import read_image
from emolens.io.media import SIGNATURE_BYTES, media_kind
from emolens.io.sinks import TrackSummary
from emolens.io.sources import VideoFileSource
from emolens.runtime.registry import SHIPPED_MODELS
from emolens.types import FrameResult, flat_landmarks
from emolens.video import run


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
            head = fh.read(SIGNATURE_BYTES)
    except MediaError:
        raise
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    except OSError as err:
        raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not head:
        raise MediaError(f"{path}: empty file")
    return media_kind(head, path)


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
        rows = FaceRows(str(path), writer, self.model, self.detector)
        summary = TrackSummary()
        try:
            kind = sniff_kind(path)
            read = self._photo if kind == "photo" else self._video
            status = read(path, rows, summary)
        except (EmolensError, OSError, ValueError, cv2.error) as err:
            status = _one_line(err)
            if isinstance(err, MediaError) and "no such file" in status and self.config.shared_fs_note:
                status = f"{status} on {socket.gethostname()} ({self.config.shared_fs_note})"
        writer.commit()
        tracks = summary.tracks()
        return SourceRow(
            source=task.path,
            status=status,
            kind=kind,
            size_bytes=task.size_bytes,
            frames=summary.frames,
            duration_s=summary.duration_s if kind == "video" else None,
            faces=summary.faces,
            tracks=len(tracks) if kind == "video" else None,
            track_emotion_s=tuple((track.track_id, track.seconds_per_emotion) for track in tracks),
            wall_s=time.perf_counter() - started,
            model=self.model,
            detector=self.detector,
        )

    def _photo(self, path: Path, rows: FaceRows, summary: TrackSummary) -> str:
        result = self.recognizer.analyze(read_image(path))
        rows.append(result)
        summary.append(result)
        return "ok"

    def _video(self, path: Path, rows: FaceRows, summary: TrackSummary) -> str:
        with VideoFileSource(path, decoder_threads=1) as source:
            summary.frame_s = 1.0 / source.fps if source.fps else None
            # One frame in memory at a time; rows go to bounded part files.
            run(self.recognizer.stream(), source, [rows, summary])
            error = source.error
        return "ok" if error is None else _one_line(error)

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


class FaceRows:
    """A sink of one input's face rows (faces/ part files): one row per face per frame.

    Args:
        source: the input's path as the rows name it.
        writer: the input's part-file writer; the caller commits it.
        model: the model's name in the rows.
        detector: the detector's name in the rows.
    """

    def __init__(self, source: str, writer: PartWriter, model: str, detector: str) -> None:
        self.source = source
        self.writer = writer
        self.model = model
        self.detector = detector

    def append(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Add one row per face of one frame (a photo is frame 0).

        Args:
            result: the frame, with every face found in it.
            image: the frame's pixels; not used.
        """
        for face in result.faces:
            self.writer.append(
                (
                    self.source,
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

    def close(self) -> None:
        """Nothing here: the worker commits the part files once the input is done, failed or not."""


def _one_line(error: object) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
