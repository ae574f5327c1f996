"""The one context-manager shape every source and sink shares: `with X(...) as x:` closes x on the way out."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_Self = TypeVar("_Self", bound="ClosesOnExit")


class ClosesOnExit:
    """Base of the sources and sinks: `with` calls `close` on the way out, an exception or not."""

    def close(self) -> None:
        """Release what the object holds (files, processes, devices); each subclass says what.

        Raises:
            NotImplementedError: Always, here: every subclass defines its own.
        """
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
