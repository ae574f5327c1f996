"""What an upload is, from its first bytes (io/media decides), and the hint a misplaced one gets.

FFmpeg guesses formats generously (a text file opens as "tty" animation), so untrusted uploads are
checked against the containers browsers and phones actually produce (io/media.upload_video_suffix). A photo sent
where a clip is expected (or the other way round) gets a hint naming the route or tab that takes it, as
`emolens analyze` hints `emolens video`. The server's frame-size check is WebOptions.check_frame_size.
"""

from __future__ import annotations

from emolens.io.media import image_format, upload_video_suffix

#: Where the REST API takes each kind of upload, for the hint a misplaced one gets.
PHOTO_ROUTE, VIDEO_ROUTE = "/api/v1/analyze", "/api/v1/analyze-video"


def video_suffix(head: bytes) -> str | None:
    """The suffix an upload is saved under when it is a video container the server takes (io/media's table).

    Args:
        head: the upload's first bytes; at least 12, and 189 to recognise an MPEG transport stream.

    Returns:
        ".mp4", ".mov", ".mkv" (WebM too), ".avi", ".ogv", ".mpg" or ".ts"; None for anything else.
    """
    return upload_video_suffix(head)


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
