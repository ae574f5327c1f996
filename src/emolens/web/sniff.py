"""Which video container an upload is, from its first bytes, before FFmpeg is allowed to open it.

FFmpeg guesses formats generously (a text file opens as "tty" animation), so untrusted uploads are
checked against the containers browsers and phones actually produce.
"""

from __future__ import annotations

_MIN_HEAD_BYTES = 12


def video_suffix(head: bytes) -> str | None:
    """The file suffix of the container that `head` (the first bytes) starts, or None if it is none we accept.

    Args:
        head: the upload's first bytes; at least 12, and 189 to recognise an MPEG transport stream.

    Returns:
        ".mp4", ".mov", ".mkv" (WebM too), ".avi", ".ogv", ".mpg" or ".ts"; the upload is saved under it, so
        FFmpeg picks its demuxer from the content, not from the client's file name.
    """
    if len(head) < _MIN_HEAD_BYTES:
        return None
    if head[4:8] == b"ftyp":
        return ".mov" if head[8:10] == b"qt" else ".mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return ".mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".mkv"  # WebM is Matroska; FFmpeg's matroska demuxer reads both
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return ".avi"
    if head.startswith(b"OggS"):
        return ".ogv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return ".mpg"
    if head[0] == 0x47 and len(head) > 188 and head[188] == 0x47:
        return ".ts"
    return None
