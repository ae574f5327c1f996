"""One-line hints for the ways people most often hold emolens wrong; the command line prints them.

Plain functions of a path or an image size: no I/O, so the CLI, the web app and batch can share them.
"""

from __future__ import annotations

from pathlib import Path

#: An image no larger than this on both sides is probably a face crop (FER2013's are 48x48).
CROP_SIDE_PX = 96


def video_input_hint(path: str | Path) -> str:
    """`use emolens video` for a path that names a video file (io/media.is_video_name decides which do).

    Args:
        path: an input handed to `emolens analyze` that names a video container.

    Returns:
        The one-line hint.
    """
    return f"this is a video: use `emolens video {path}`"


def no_face_hint(height_px: int, width_px: int) -> str | None:
    """`use --whole-image` when no face was found in an image the size of a face crop, else None.

    Args:
        height_px: the image's height.
        width_px: the image's width.

    Returns:
        The one-line hint when both sides are at most CROP_SIDE_PX, else None.
    """
    if height_px <= CROP_SIDE_PX and width_px <= CROP_SIDE_PX:
        return (
            f"a {width_px}x{height_px} image is too small to find a face in; "
            "if it is already a face crop, use `--whole-image`"
        )
    return None
