"""The shared worker pool: a bounded number of analyses at once, a heavy lane for clips, and the stop rules a
clip's frame loop composes (`video.stop_when`): the memory mark, the deadline and the client gone."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import HTTPException, Request

from emolens.errors import EmolensError

log = logging.getLogger("emolens.web")
T = TypeVar("T")


class WorkPool:
    """At most `workers` analyses at once, shared by the REST routes and the UI; a bounded number may wait.

    Heavy work (video clips) may hold at most `workers - 1` of the slots (one, on one core), so a photo or a
    camera frame never waits behind long clips. After heavy work the C heap is trimmed, so the memory a
    clip needed goes back to the system instead of staying in the process. `memory_mark` refuses new heavy work
    while the process's resident memory stays above `max_rss_mb` (0: no mark), so memory that does not come back
    cannot grow without bound; a clip's frame loop also has it among its stop rules.
    """

    def __init__(self, workers: int, max_waiting: int, max_rss_mb: float = 0.0) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self.memory_mark = MemoryMark(max_rss_mb)
        self._slots = threading.BoundedSemaphore(workers)
        self._heavy = threading.BoundedSemaphore(max(1, workers - 1))
        self._waiting = 0

    def call(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """Run `fn` in the calling thread once a slot is free (for the UI's worker threads).

        Args:
            fn: the work.
            *args: its arguments.
            heavy: a clip rather than one image: the memory mark is asked first, it also takes one of the
                workers - 1 heavy slots, and the C heap is trimmed after it.

        Returns:
            What `fn` returns.

        Raises:
            OverMemoryMarkError: heavy work asked while the process's memory is above the mark.
        """
        if not heavy:
            with self._slots:
                return fn(*args)
        self.memory_mark.admit()
        with self._heavy, self._slots:
            try:
                return fn(*args)
            finally:
                release_free_memory()

    async def run(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """Run `fn` in a worker thread; 503 when too many requests are already waiting.

        Args:
            fn: the work.
            *args: its arguments.
            heavy: a clip rather than one image (see `call`).

        Returns:
            What `fn` returns.

        Raises:
            HTTPException: 503, when `max_waiting` requests already wait beyond the busy workers.
            OverMemoryMarkError: heavy work asked while the process's memory is above the mark.
        """
        # Only the event loop thread touches the counter, so it needs no lock.
        if self._waiting >= self.max_waiting + self.workers:
            raise HTTPException(503, "server busy, try again shortly")
        if heavy:
            self.memory_mark.admit()  # before waiting for a slot: a refusal should not queue first
        self._waiting += 1
        try:
            return await anyio.to_thread.run_sync(partial(self.call, fn, *args, heavy=heavy))
        finally:
            self._waiting -= 1


class MemoryMark:
    """The server's memory mark (`--max-rss-mb`), one rule for both moments it is asked.

    Before a clip starts (`admit`, and the stop rule asked with 0 frames done): over the mark, the clip is
    refused with OverMemoryMarkError (503 with Retry-After; the same line in the Video tab). Between the frames of
    a running clip, as one of the rules in its stop policy (`video.stop_when`): over the mark, the clip ends there
    like at its deadline, and what it has so far is answered with the reason. Above the mark the C heap is trimmed
    once before deciding, since pages freed but still held by it count until they are handed back.

    Args:
        max_rss_mb: resident MB above which clips are refused and stopped; 0 turns the mark off.
        every_frames: a running clip reads its memory every this many frames (a read costs about 17 us, a frame
            about 4 ms), so it ends at most this many frames after crossing the mark.
    """

    def __init__(self, max_rss_mb: float, every_frames: int = 10) -> None:
        if every_frames < 1:
            raise ValueError(f"every_frames must be at least 1, got {every_frames}")
        self.max_rss_mb = max_rss_mb
        self.every_frames = every_frames

    def over(self) -> float | None:
        """The resident MB while they are over the mark (after one trim of the C heap), else None.

        Returns:
            Resident MB over `max_rss_mb`; None under it, with the mark off, or where there is no /proc.
        """
        if self.max_rss_mb <= 0:
            return None
        resident = resident_mb()
        if resident is None or resident <= self.max_rss_mb:
            return None
        release_free_memory()
        resident = resident_mb()
        return resident if resident is not None and resident > self.max_rss_mb else None

    def admit(self) -> None:
        """Pass while the process's resident memory is under the mark.

        Raises:
            OverMemoryMarkError: naming the resident memory and the mark, with a time to retry after.
        """
        resident = self.over()
        if resident is not None:
            log.warning("memory mark: %.0f MB resident, over --max-rss-mb %g; video refused", resident, self.max_rss_mb)
            raise OverMemoryMarkError(
                f"{self._over_text(resident)}; videos are refused until it comes down, try again in {RETRY_AFTER_S} s"
            )

    def __call__(self, frames_done: int) -> str | None:
        """The stop rule: asked before each frame of a clip with the frames done so far.

        Args:
            frames_done: frames of the clip processed so far.

        Returns:
            None while under the mark; else the reason the clip ends here.

        Raises:
            OverMemoryMarkError: before the first frame (`frames_done` 0), over the mark: the clip is refused.
        """
        if frames_done == 0:
            self.admit()
            return None
        if frames_done % self.every_frames:
            return None
        resident = self.over()
        if resident is None:
            return None
        log.warning("memory mark: %.0f MB resident, over --max-rss-mb %g; video stopped", resident, self.max_rss_mb)
        return f"stopped after {frames_done} frames: {self._over_text(resident)}"

    def _over_text(self, resident: float) -> str:
        return f"server memory is over its mark ({resident:.0f} MB resident, --max-rss-mb {self.max_rss_mb:g})"


#: Seconds a client refused for memory is told to wait (Retry-After).
RETRY_AFTER_S = 30


class OverMemoryMarkError(EmolensError):
    """New heavy work is refused while the server's resident memory is above --max-rss-mb (503, Retry-After)."""


def resident_mb() -> float | None:
    """This process's resident memory, as the system counts it.

    Returns:
        Resident MB read from /proc/self/statm; None where there is no /proc (the mark is then not enforced).
    """
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def release_free_memory() -> None:
    """Hand freed C-heap pages back to the system (glibc's malloc_trim); a no-op elsewhere.

    OpenCV and onnxruntime free their buffers, but glibc keeps the pages in per-thread arenas, so without
    this a server's RSS stays at its peak (2-3 GB after a few large clips) for ever.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # musl and other libcs have no malloc_trim
        ctypes.CDLL(None).malloc_trim(0)


class Cancel:
    """Why a piece of work must stop: its deadline passed or its client went away. Thread-safe."""

    def __init__(self, deadline_s: float) -> None:
        self._deadline = time.monotonic() + deadline_s
        self._deadline_s = deadline_s
        self._gone = threading.Event()

    def client_gone(self) -> None:
        """Record that the client disconnected; `reason` says so from now on, in every thread."""
        self._gone.set()

    def reason(self) -> str | None:
        """Whether the work must stop, checked by the worker between frames.

        Returns:
            None while the work may go on; else a one-line reason (client gone, or time limit reached).
        """
        if self._gone.is_set():
            return "the client disconnected"
        if time.monotonic() > self._deadline:
            return f"the server's time limit of {self._deadline_s:g} s per request was reached"
        return None


@contextlib.asynccontextmanager
async def watch_disconnect(request: Request, cancel: Cancel, every_s: float = 0.5) -> AsyncIterator[None]:
    """While the block runs, poll whether the client is still there and tell `cancel` when it is not.

    Args:
        request: the request whose client to watch.
        cancel: told `client_gone` on disconnect.
        every_s: seconds between polls.

    Yields:
        Nothing; the poll stops when the block ends.
    """

    async def poll() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(every_s)
        cancel.client_gone()

    # A plain task rather than a task group: the block's own errors must reach the handlers unwrapped.
    task = asyncio.create_task(poll())
    try:
        yield
    finally:
        task.cancel()
