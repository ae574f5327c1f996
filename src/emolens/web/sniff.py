"""What an upload is, from its first bytes, before FFmpeg or a decoder is allowed to open it; and the frame-size cap.

FFmpeg guesses formats generously (a text file opens as "tty" animation), so untrusted uploads are
checked against the containers browsers and phones actually produce. A photo sent where a clip is expected (or
the other way round) gets a hint naming the route or tab that takes it, as `emolens analyze` hints `emolens video`.
"""

from __future__ import annotations

from emolens.errors import InputTooLargeError
from emolens.io.image_header import image_format

#: Where the REST API takes each kind of upload, for the hint a misplaced one gets.
PHOTO_ROUTE, VIDEO_ROUTE = "/api/v1/analyze", "/api/v1/analyze-video"
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


def is_image(head: bytes) -> bool:
    """Whether `head` (an upload's first bytes) starts an image format emolens reads.

    Args:
        head: the upload's first bytes; 12 are enough.

    Returns:
        True for JPEG, PNG, WebP, BMP, TIFF, GIF and PNM signatures.
    """
    return image_format(head) is not None


def route_hint(head: bytes, route: str) -> str:
    """The hint for an upload sent to the wrong REST route: "; this is a video: use ..." or "".

    Args:
        head: the upload's first bytes.
        route: the route it was sent to, PHOTO_ROUTE or VIDEO_ROUTE.

    Returns:
        "; this is a video: use the video route, POST /api/v1/analyze-video" for a clip sent to the photo route,
        the photo route's hint for an image sent to the video route, else "".
    """
    if route == PHOTO_ROUTE and video_suffix(head) is not None:
        return f"; this is a video: use the video route, POST {VIDEO_ROUTE}"
    if route == VIDEO_ROUTE and is_image(head):
        return f"; this is a photo: use the photo route, POST {PHOTO_ROUTE}"
    return ""


def check_frame_size(size_px: tuple[int, int], name: str, max_frame_pixels: int) -> None:
    """InputTooLargeError when a clip's frames exceed the server's pixel cap (the REST route and the UI's).

    Args:
        size_px: the clip's (width, height).
        name: the upload's name, for the message.
        max_frame_pixels: the cap, width x height.

    Raises:
        InputTooLargeError: If width x height is over the cap.
    """
    if size_px[0] * size_px[1] > max_frame_pixels:
        raise InputTooLargeError(
            f"{name}: frames of {size_px[0]}x{size_px[1]} pixels are over the server's limit of "
            f"{max_frame_pixels / 1e6:g} megapixels per frame"
        )
