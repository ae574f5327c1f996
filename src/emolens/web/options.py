"""What `emolens serve` can be told: the model, the display language and the limits that keep it up."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from emolens.api import RecognizerOptions
from emolens.io.images import DEFAULT_MAX_PIXELS
from emolens.io.media import check_frame_size
from emolens.labels import DEFAULT_LANG

#: Largest video frame, in pixels: 8.3 megapixels, so that 4K UHD (3840 x 2160, 8.29) fits; an 8K clip would hold a
#: worker for an hour. A round number of megapixels, as messages and docs write the limit.
DEFAULT_MAX_FRAME_PIXELS = 8_300_000


@dataclass(frozen=True)
class WebOptions:
    """Options of the web app; `workers` 0 means one per CPU core.

    A field with "help" in its metadata is a flag of `emolens serve` (`emolens.cli.common.add_field_flags`: name,
    type, default and help are written here once); `recognizer` and `lang` have the flags of every command that runs
    the model.
    """

    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    lang: str = DEFAULT_LANG
    #: Largest request body, an upload included, on every route (the UI's too).
    max_upload_mb: float = field(default=25.0, metadata={"help": "largest request body, any route"})
    workers: int = field(default=0, metadata={"help": "analyses at once (0: one per CPU core)"})
    #: Requests allowed to wait for a worker before new ones get 503: a burst queues, a flood is refused.
    max_waiting: int = field(
        default=64, metadata={"help": "requests that may wait for a busy worker; more get 503 with Retry-After"}
    )
    #: Frames a video request (REST or the UI's Video tab) analyses at most; a longer clip is cut there and says so.
    max_video_frames: int = field(default=3000, metadata={"help": "frames analysed per video request, REST and UI"})
    #: Largest image, in pixels its header declares; larger ones get 413 before decoding.
    max_pixels: int = field(
        default=DEFAULT_MAX_PIXELS, metadata={"help": "largest image, in pixels its header declares"}
    )
    #: Largest video frame, in pixels (DEFAULT_MAX_FRAME_PIXELS says why).
    max_frame_pixels: int = field(
        default=DEFAULT_MAX_FRAME_PIXELS,
        metadata={
            "help": "largest video frame, in pixels "
            f"(default %(default)s: {DEFAULT_MAX_FRAME_PIXELS / 1e6:g} megapixels)"
        },
    )
    #: Wall seconds one video request may run before it stops with what it has.
    request_timeout_s: float = field(
        default=120.0, metadata={"flag": "--timeout-s", "help": "wall seconds one video request may run"}
    )
    #: Origins besides the server's own allowed to POST (e.g. "https://app.example"); others get 403.
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata={
            "flag": "--allow-origin",
            "metavar": "ORIGIN",
            "help": "another web origin allowed to POST (repeatable); others get 403",
        },
    )
    #: Uploaded files older than this are deleted (all of them when the server stops).
    upload_max_age_s: float = field(
        default=3600.0, metadata={"help": "seconds an upload or result is kept (all go when the server stops)"}
    )
    #: Resident memory (MB) above which new video requests get 503 with Retry-After and running clips stop with what
    #: they have (web.pool.MemoryMark); 0 turns the mark off.
    #: Two clips at the frame-size cap peak near 550 MB (benchmarks/bench_load.py; docs/speed.md, "Web app"), so this
    #: leaves room for bursts.
    max_rss_mb: float = field(
        default=2048.0,
        metadata={"help": "resident memory (MB) above which videos get 503 and running ones stop (0: no mark)"},
    )

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_upload_mb) and self.max_upload_mb > 0):
            raise ValueError(f"max_upload_mb must be a positive finite number, got {self.max_upload_mb}")
        if not (math.isfinite(self.request_timeout_s) and self.request_timeout_s > 0):
            raise ValueError(f"request_timeout_s must be a positive finite number, got {self.request_timeout_s}")
        if not (math.isfinite(self.upload_max_age_s) and self.upload_max_age_s >= 1):  # Gradio's sweep counts whole s
            raise ValueError(f"upload_max_age_s must be a finite number, 1 or more, got {self.upload_max_age_s}")
        if not (math.isfinite(self.max_rss_mb) and self.max_rss_mb >= 0):
            raise ValueError(f"max_rss_mb must be a finite number, 0 or more, got {self.max_rss_mb}")
        for name in ("max_video_frames", "max_pixels", "max_frame_pixels", "max_waiting"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 (one per core) or more, got {self.workers}")

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes (MiB: 1 MB here is 1024 x 1024 bytes), as the body limit counts."""
        return int(self.max_upload_mb * 1024 * 1024)

    def check_frame_size(self, size_px: tuple[int, int], name: str) -> None:
        """The server's frame-size check (io/media's, with `max_frame_pixels`), naming the upload as the client did.

        Args:
            size_px: the frames' (width, height).
            name: the upload's name (never its path on the server).

        Raises:
            InputTooLargeError: If width x height is over `max_frame_pixels`.
        """
        check_frame_size(size_px, name, self.max_frame_pixels, "the server's limit")

    @property
    def worker_count(self) -> int:
        """The model workers to start: `workers`, or one per CPU core when it is 0."""
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)
