"""Frame sources: a video file or a camera, iterated as `Frame`s with index and timestamp.

A damaged video is read as far as it decodes; the source then records what went wrong in `.error`
instead of raising, so a caller keeps every frame it already processed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emolens.errors import InputTooLargeError, MediaError
from emolens.io.closing import ClosesOnExit
from emolens.io.images import DEFAULT_MAX_PIXELS
from emolens.io.media import ISO_BMFF_SUFFIXES, check_frame_size, still_image_format

log = logging.getLogger(__name__)

# Container metadata only estimates the frame count (no_face.mp4 says 98 and holds 95), so a shortfall
# counts as damage only below this fraction; a cut MP4/MOV is caught exactly by its box sizes instead.
_SHORTFALL_RATIO = 0.9


@dataclass(frozen=True)
class Frame:
    """One decoded image (BGR uint8) with its position in the stream."""

    index: int
    time_s: float
    image: np.ndarray


class VideoFileSource(ClosesOnExit):
    """Frames of a video file, in order. Raises MediaError naming the file when it cannot be opened at all.

    `decoder_threads` None leaves FFmpeg's own choice (one decoding thread per core, which speeds up a single
    reader); a process pool that already keeps every core busy passes 1, since extra decoding threads then
    only take time from the other workers.

    A video whose frames are over `max_frame_pixels` is refused on opening, before its frames are read: a few
    megabytes of MJPEG can declare frames of gigabytes each, and the read-ahead would hold several of them.
    The limit is the one photos have (DEFAULT_MAX_PIXELS); the web app checks its own lower one on the open
    source (WebOptions.check_frame_size: io/media's check, naming the upload), since this message names the path.

    Raises:
        MediaError: naming the file, when it is missing, not a regular file, a still image, or not a video.
        InputTooLargeError: naming the file, when its frames are over `max_frame_pixels` (a MediaError).
        ValueError: `decoder_threads` or `max_frame_pixels` under 1.
    """

    def __init__(
        self, path: str | Path, *, decoder_threads: int | None = None, max_frame_pixels: int = DEFAULT_MAX_PIXELS
    ) -> None:
        self.path = Path(path)
        self.error: str | None = None
        if decoder_threads is not None and decoder_threads < 1:
            raise ValueError(f"decoder_threads must be at least 1, got {decoder_threads}")
        if max_frame_pixels < 1:
            raise ValueError(f"max_frame_pixels must be at least 1, got {max_frame_pixels}")
        _check_video_file(self.path)
        if decoder_threads is None:
            self._cap = cv2.VideoCapture(str(self.path))
        else:
            self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, decoder_threads])
        if not self._cap.isOpened():
            self._cap.release()
            raise MediaError(f"{self.path}: not a readable video (unknown format, or damaged/truncated file)")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps: float = fps if 0 < fps < 1000 else 0.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count: int | None = count if count > 0 else None
        self.size_px: tuple[int, int] = (
            int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        _refuse_large_frames(self._cap, str(self.path), self.size_px, max_frame_pixels)
        self._truncation = _iso_bmff_truncation(self.path)

    def close(self) -> None:
        """Release the decoder; iterating afterwards yields no more frames."""
        self._cap.release()

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            yield Frame(index=index, time_s=self._timestamp_s(index), image=image)
            index += 1
        self._check_end(index)

    def _timestamp_s(self, index: int) -> float:
        # The container's own timestamp is right for variable frame rates; index/fps is the fallback.
        pos_ms = float(self._cap.get(cv2.CAP_PROP_POS_MSEC))
        if pos_ms > 0 or index == 0:
            return pos_ms / 1000.0
        return index / self.fps if self.fps else 0.0

    def _check_end(self, frames_read: int) -> None:
        if frames_read == 0:
            self.error = f"{self.path}: no frame could be decoded (damaged or truncated video)"
        elif self._truncation:
            self.error = f"{self.path}: file is truncated ({self._truncation}); read {frames_read} frames"
        elif self.frame_count and frames_read < _SHORTFALL_RATIO * self.frame_count:
            self.error = (
                f"{self.path}: video ends early: read {frames_read} of {self.frame_count} frames (damaged file?)"
            )
        if self.error:
            log.debug("%s", self.error)


class CameraSource(ClosesOnExit):
    """Live frames from camera `index`; time_s counts from the first frame. A video file path may stand in
    for a camera (useful for demos and tests): it is then paced at its own frame rate, like a live feed.

    Raises:
        MediaError: naming the camera or file, when it cannot be opened or delivers nothing.
        InputTooLargeError: when its frames are over DEFAULT_MAX_PIXELS, as for VideoFileSource.
    """

    def __init__(self, index: int | str | Path = 0, *, realtime: bool = True) -> None:
        self.error: str | None = None
        file_path = None if isinstance(index, int) else Path(index)
        self._file = file_path is not None
        self.name = f"camera {index}" if file_path is None else str(index)
        if file_path is not None and not file_path.is_file():
            raise MediaError(f"{index}: no such video file")
        self._cap = cv2.VideoCapture(index if isinstance(index, int) else str(index))
        ok = self._cap.isOpened()
        if ok and not self._file:
            # A busy camera often opens but delivers nothing; find out now, not in the loop.
            ok, first = self._cap.read()
            self._pending: np.ndarray | None = first if ok else None
        else:
            self._pending = None
        if not ok:
            self._cap.release()
            raise MediaError(f"{self.name} could not be opened (missing, busy or not permitted)")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps: float = fps if 0 < fps < 1000 else 0.0
        self.size_px = (int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        _refuse_large_frames(self._cap, self.name, self.size_px, DEFAULT_MAX_PIXELS)
        self._pace = realtime and self._file and self.fps > 0

    def close(self) -> None:
        """Release the camera (or the file standing in for one), so another program may open it."""
        self._cap.release()

    def __iter__(self) -> Iterator[Frame]:
        start = time.perf_counter()
        index = 0
        while True:
            if self._pending is not None:
                image, self._pending = self._pending, None
            else:
                ok, image = self._cap.read()
                if not ok or image is None:
                    if not self._file:
                        self.error = f"{self.name} stopped delivering frames"
                    return
            if self._pace:
                # A file plays at its own rate; sleeping keeps the live loop honest about timing.
                delay_s = index / self.fps - (time.perf_counter() - start)
                if delay_s > 0:
                    time.sleep(delay_s)
            yield Frame(index=index, time_s=time.perf_counter() - start, image=image)
            index += 1


def _refuse_large_frames(cap: cv2.VideoCapture, name: str, size_px: tuple[int, int], max_frame_pixels: int) -> None:
    """Release `cap` and raise InputTooLargeError naming `name` when its frames are over `max_frame_pixels`."""
    try:
        check_frame_size(size_px, name, max_frame_pixels)
    except InputTooLargeError:
        cap.release()
        raise


def _check_video_file(path: Path) -> None:
    """MediaError naming `path` unless it is a regular file that does not start as a still image."""
    if not path.exists():
        raise MediaError(f"{path}: no such video file")
    if not path.is_file():
        raise MediaError(f"{path}: not a regular file (a folder, pipe or device); give a video file")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as err:
        raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    kind = still_image_format(head)  # an animated GIF is a video to FFmpeg; the others are stills
    if kind is not None:
        raise MediaError(f"{path}: is a {kind} image, not a video (whatever its name says)")


def _iso_bmff_truncation(path: Path) -> str | None:
    """For MP4/MOV: a top-level box that claims more bytes than the file holds means the file was cut."""
    if path.suffix.lower() not in ISO_BMFF_SUFFIXES:
        return None
    size = path.stat().st_size
    offset = 0
    with path.open("rb") as fh:
        while offset + 8 <= size:
            fh.seek(offset)
            header = fh.read(16)
            box_size = int.from_bytes(header[0:4], "big")
            kind = "".join(chr(b) if 32 <= b < 127 else "?" for b in header[4:8])  # printable, whatever the bytes
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # "extends to the end of the file"
                return None
            if box_size < 8:
                return None  # not a box structure we understand; let the decoder judge
            if offset + box_size > size:
                return f"'{kind}' box needs {offset + box_size} bytes, the file has {size}"
            offset += box_size
    return None
