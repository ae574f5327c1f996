"""What `emolens serve` can be told: the model, the display language and the limits that keep it up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from emolens.api import RecognizerOptions
from emolens.labels import DEFAULT_LANG


@dataclass(frozen=True)
class WebOptions:
    """Options of the web app; `workers` 0 means one per CPU core."""

    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    lang: str = DEFAULT_LANG
    max_upload_mb: float = 25.0
    workers: int = 0
    #: Requests allowed to wait for a worker before new ones get 503: a burst queues, a flood is refused.
    max_waiting: int = 64
    #: Frames the REST video endpoint analyses at most; a longer clip is cut there and says so.
    max_video_frames: int = 3000

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)
