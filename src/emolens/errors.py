"""The errors emolens raises: one base class and a few precise kinds, each with a one-line message."""

from __future__ import annotations


class EmolensError(Exception):
    """Base of every error emolens raises on purpose."""


class DataFormatError(EmolensError, ValueError):
    """A data set file or row is malformed; the message names the file and line.

    Args:
        path: The file that is malformed, as the user named it.
        line: The 1-based line number of the bad row, or None when the fault is the whole file.
        reason: What is wrong, in a few words.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class MediaError(EmolensError, OSError):
    """An image, video or camera could not be opened or decoded; the message names it."""


class ModelFileError(EmolensError, OSError):
    """A model file is missing, unreadable or lacks the metadata emolens needs."""


class InputTooLargeError(MediaError):
    """An input exceeds a size limit (bytes on disk, or pixels its header declares); the message names both."""
