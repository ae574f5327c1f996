"""Decoding the next frames in a background thread while the current one is analysed.

OpenCV's decoder releases the GIL, so on a machine with a second core the decoding of frame n+1 overlaps
the detection and classification of frame n instead of adding to it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from emolens.io.closing import ClosesOnExit

T = TypeVar("T")

_POLL_S = 0.05  # how often a blocked producer checks whether it was told to stop


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class ReadAhead(ClosesOnExit, Generic[T]):
    """Iterates `items` in a background thread, at most `depth` items ahead of the consumer.

    An exception raised while producing an item is raised again, in the consumer's thread, where that item
    would have come. `close` (or leaving the `with` block) stops the thread; close it before closing whatever
    `items` reads from.

    Args:
        items: the iterable to read ahead (for example a VideoFileSource).
        depth: items decoded ahead at most (each frame holds memory: 0.7 MB at 640x360).
    """

    def __init__(self, items: Iterable[T], depth: int = 4) -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self._queue: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        #: Seconds the background thread spent producing items (the decoder's own cost, overlapped or not).
        self.busy_seconds = 0.0
        self._thread = threading.Thread(target=self._produce, args=(items,), name="emolens-read-ahead", daemon=True)
        self._thread.start()

    def _produce(self, items: Iterable[T]) -> None:
        end = _End()
        try:
            iterator = iter(items)
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                finally:
                    self.busy_seconds += time.perf_counter() - started
                if not self._put(item):
                    return
        except BaseException as err:  # handed to the consumer, which raises it
            end = _End(err)
        self._put(end)

    def _put(self, item: T | _End) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                self._thread.join()
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        """Stop the background thread and wait for it (an item being produced is finished first)."""
        self._stop.set()
        self._thread.join()
