"""What emolens knows of media types, in one place: file suffixes, leading-byte signatures, the frame-size check.

The command line, the web app, batch and the dataset loaders all ask here; no other module keeps a suffix set
or tests magic bytes (tests/io/test_media.py checks the source for strays). Names are trusted only to pick
files out of a folder: what a file is, is decided by its first bytes.

One table for every caller: a video is any of VIDEO_SUFFIXES, which includes both `.ogv` (Ogg Theora) and
`.3gp` (phones' MP4 variant), since FFmpeg reads both; before this module the hint for `emolens analyze` knew
`.ogv` but not `.3gp`, and batch's folder search the reverse.
"""

from __future__ import annotations

from pathlib import Path

from emolens.errors import InputTooLargeError

#: Suffixes of the still images emolens reads (a folder is searched for these); OpenCV decodes them all.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"})
#: Suffixes an annotated picture keeps when written (`emolens analyze --out`); other inputs are written as .png.
WRITABLE_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
#: Suffixes of the video containers FFmpeg reads that people hold (a folder is searched for these).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".wmv", ".flv", ".mpg", ".mpeg", ".ogv", ".3gp"}
)
#: Photos and videos: what batch's folder search picks up.
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
#: Containers made of ISO BMFF boxes (MP4, MOV and kin), whose box sizes tell a cut file exactly.
ISO_BMFF_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".3gp"})
#: The containers an upload to the web app may be (what browsers, phones and cameras record), by the suffix
#: `video_container` names; others (FLV, ASF) are refused there, since FFmpeg's less used demuxers are exposure.
UPLOAD_CONTAINERS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".ogv", ".mpg", ".ts"})

#: Bytes of a file enough for every signature below but MPEG-TS's (its second sync byte sits at 188).
SIGNATURE_BYTES = 12
_TS_PACKET_BYTES = 188
# Top-level MP4/MOV box types a QuickTime file may start with (the "ftyp" box is optional in old MOV files).
_QUICKTIME_FIRST_BOXES = (b"moov", b"mdat", b"wide", b"free", b"skip")


def image_format(head: bytes) -> str | None:
    """The image format that `head` starts with, by signature alone; None if none emolens reads.

    Args:
        head: the first bytes of the file; 12 are enough for every signature.

    Returns:
        "JPEG", "PNG", "WebP", "BMP", "TIFF", "GIF" or "PNM", or None.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    # "P1".."P6" then whitespace: the PNM family (PBM, PGM, PPM in text or binary).
    if len(head) >= 3 and head[0] == ord("P") and ord("1") <= head[1] <= ord("6") and head[2:3].isspace():
        return "PNM"
    return None


def still_image_format(head: bytes) -> str | None:
    """The still-image format `head` starts with; None for a GIF (FFmpeg reads an animated GIF as a video).

    Args:
        head: the first bytes of the file.

    Returns:
        As `image_format`, but None for GIF.
    """
    kind = image_format(head)
    return None if kind == "GIF" else kind


def video_container(head: bytes) -> str | None:
    """The suffix of the video container `head` starts, by signature; None if none emolens knows.

    Args:
        head: the first bytes of the file; at least 12, and 189 to recognise an MPEG transport stream.

    Returns:
        ".mp4", ".mov", ".mkv" (WebM too), ".avi", ".ogv", ".mpg", ".ts", ".flv" or ".asf".
    """
    if len(head) < SIGNATURE_BYTES:
        return None
    if head[4:8] == b"ftyp":
        return ".mov" if head[8:10] == b"qt" else ".mp4"
    if head[4:8] in _QUICKTIME_FIRST_BOXES:
        return ".mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".mkv"  # WebM is Matroska; FFmpeg's matroska demuxer reads both
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return ".avi"
    if head.startswith(b"OggS"):
        return ".ogv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return ".mpg"
    if head[0] == 0x47 and len(head) > _TS_PACKET_BYTES and head[_TS_PACKET_BYTES] == 0x47:
        return ".ts"
    if head.startswith(b"FLV"):
        return ".flv"
    if head.startswith(b"0&\xb2u"):
        return ".asf"  # also WMV
    return None


def upload_video_suffix(head: bytes) -> str | None:
    """The suffix to save a web upload under: its container's, when it is one of UPLOAD_CONTAINERS.

    FFmpeg guesses formats generously (a text file opens as "tty" animation), so untrusted uploads are checked
    against the containers browsers and phones actually produce, and saved under the suffix of what they are,
    so that FFmpeg picks its demuxer from the content, not from the client's file name.

    Args:
        head: the upload's first bytes; at least 12, and 189 to recognise an MPEG transport stream.

    Returns:
        ".mp4", ".mov", ".mkv" (WebM too), ".avi", ".ogv", ".mpg" or ".ts"; None for anything else.
    """
    suffix = video_container(head)
    return suffix if suffix in UPLOAD_CONTAINERS else None


def media_kind(head: bytes, name: str | Path) -> str:
    """Whether a file is a photo or a video, by its first bytes (its name breaks only a tie).

    Args:
        head: the file's first bytes (SIGNATURE_BYTES or more).
        name: the file's name or path.

    Returns:
        "photo" for the still-image formats OpenCV decodes, and for unknown bytes under a photo's suffix (so the
        image reader names the problem); else "video".
    """
    if still_image_format(head) is not None:
        return "photo"
    if video_container(head) is None and Path(name).suffix.lower() in IMAGE_SUFFIXES:
        return "photo"
    return "video"


def is_video_name(path: str | Path) -> bool:
    """Whether `path`'s suffix is a video container's (the file is not opened).

    Args:
        path: a file name or path.

    Returns:
        True for any of VIDEO_SUFFIXES, in any case.
    """
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def check_frame_size(size_px: tuple[int, int], name: str, max_frame_pixels: int, limit: str = "the limit") -> None:
    """InputTooLargeError when frames of `size_px` are over `max_frame_pixels`: the one frame-size check.

    Args:
        size_px: the frames' (width, height).
        name: what the message calls the video: its path, or, in the web app, the upload's name as the client
            sent it (never the server's path).
        max_frame_pixels: the cap, width x height.
        limit: whose limit the message names ("the server's limit").

    Raises:
        InputTooLargeError: If width x height is over the cap.
    """
    if size_px[0] * size_px[1] > max_frame_pixels:
        raise InputTooLargeError(
            f"{name}: frames of {size_px[0]}x{size_px[1]} pixels are over {limit} of "
            f"{max_frame_pixels / 1e6:g} megapixels per frame"
        )
