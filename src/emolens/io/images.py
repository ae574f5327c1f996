"""Still images from files or uploaded bytes -> BGR uint8 arrays, or a MediaError that names the input.

Every image passes the same two limits before it is decoded, wherever it comes from (API, CLI, web app,
batch): the file's bytes (regular files only: a FIFO or /dev/zero is refused without reading) and the
pixel count its header declares (an image bomb is refused before the decoder allocates anything).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np

from emolens.errors import InputTooLargeError, MediaError

from .image_header import read_header
from .media import image_format

#: Largest image decoded, in pixels (50 megapixels: a 8660x5773 photo, 150 MB as BGR). The one definition of this
#: limit: `--max-pixels` of analyze and serve, WebOptions.max_pixels and the video sources' frame check read it.
DEFAULT_MAX_PIXELS = 50_000_000
#: Largest image file read, in bytes; a 50-megapixel 16-bit TIFF fits, /dev/zero does not.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
#: The formats whose headers are read before decoding; any other is refused.
ACCEPTED_FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF, PNM"


def read_image(
    path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> np.ndarray:
    """A BGR uint8 (H, W, 3) image, EXIF rotation applied.

    Args:
        path: a regular file (a FIFO, device or folder is refused without being read).
        max_pixels: refuse images whose header declares more pixels than this.
        max_file_bytes: refuse files larger than this.

    Returns:
        The image as a contiguous BGR uint8 array.

    Raises:
        InputTooLargeError: over either limit (a MediaError).
        MediaError: naming `path`, when it cannot be read or decoded.
    """
    return decode_image(read_regular_file(path, max_file_bytes), str(path), max_pixels)


def read_regular_file(path: str | Path, max_file_bytes: int) -> bytes:
    """The bytes of `path` if it is a regular file of at most `max_file_bytes`; MediaError naming it otherwise.

    The size is checked on the open descriptor, and the read stops one byte past the limit, so neither a
    FIFO nor a file that grows while read can make it wait or read without bound.

    Args:
        path: the file to read.
        max_file_bytes: the largest size accepted.

    Returns:
        The whole file.

    Raises:
        InputTooLargeError: the file is over `max_file_bytes`, or grew past it while read (a MediaError).
        MediaError: naming `path`, when it is missing, a directory, not a regular file, or unreadable.
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it anyway.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MediaError(f"{path}: is a directory, not an image") from None
    except OSError as err:
        raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    info = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        problem = MediaError(f"{path}: is a directory, not an image")
    elif not stat.S_ISREG(info.st_mode):
        problem = MediaError(f"{path}: not a regular file (a pipe, socket or device); only files are read")
    elif info.st_size > max_file_bytes:
        problem = InputTooLargeError(f"{path}: {_mb(info.st_size)} is over the limit of {_mb(max_file_bytes)}")
    if problem is not None:
        os.close(fd)
        raise problem
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(max_file_bytes + 1)
        except OSError as err:
            raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    if len(data) > max_file_bytes:  # the file grew while being read
        raise InputTooLargeError(f"{path}: larger than the limit of {_mb(max_file_bytes)}")
    return data


def check_image_header(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse `data` unless its header names a format we read and at most `max_pixels` pixels.

    Args:
        data: the file's bytes (its first HEAD_BYTES suffice for all formats but JPEG).
        name: what the error messages call the input (a path, or an upload's file name).
        max_pixels: the largest width x height accepted.

    Raises:
        InputTooLargeError: the header declares more than `max_pixels`.
        MediaError: empty data, or not an image format emolens reads.
    """
    if not data:
        raise MediaError(f"{name}: empty file")
    header = read_header(data)
    if header is None:
        raise MediaError(f"{name}: not a readable image (corrupt, truncated or not one of {ACCEPTED_FORMATS})")
    if header.pixels > max_pixels:
        raise InputTooLargeError(
            f"{name}: {header.format} of {header.width_px}x{header.height_px} pixels is over the limit of "
            f"{max_pixels / 1e6:g} megapixels (--max-pixels)"
        )


def decode_image(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Like read_image, for bytes already in memory (an upload).

    Args:
        data: the encoded image.
        name: what the error messages call the input (a path, or an upload's file name).
        max_pixels: the largest width x height accepted, checked on the header before decoding and on the
            decoded image after.

    Returns:
        The image as a contiguous BGR uint8 array (EXIF orientation applied to JPEGs).

    Raises:
        InputTooLargeError: over `max_pixels` (a MediaError).
        MediaError: naming `name`, when the data is empty, not a format emolens reads, a truncated JPEG, or
            does not decode.
    """
    check_image_header(data, name, max_pixels)
    is_jpeg = image_format(data) == "JPEG"
    if is_jpeg and not _jpeg_complete(data):
        # libjpeg would fill the missing rows with grey and only warn; a half image must not pass as a photo.
        raise MediaError(f"{name}: truncated JPEG (no end-of-image marker)")
    buffer = np.frombuffer(data, np.uint8)
    # IMREAD_COLOR applies EXIF orientation; IMREAD_UNCHANGED keeps alpha and 16 bits but ignores EXIF, and
    # orientation tags live in JPEGs, so each kind gets the flag that serves it.
    flags = cv2.IMREAD_COLOR if is_jpeg else cv2.IMREAD_UNCHANGED
    try:
        image = cv2.imdecode(buffer, flags)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise MediaError(f"{name}: not a readable image (corrupt, truncated or not an image format)")
    if image.shape[0] * image.shape[1] > max_pixels:  # a header that understated the size
        raise InputTooLargeError(f"{name}: {image.shape[1]}x{image.shape[0]} pixels is over the limit")
    return _to_bgr_u8(image, name)


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / 1024 / 1024:.1f} MB"


def _to_bgr_u8(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = np.clip(np.nan_to_num(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise MediaError(f"{name}: unsupported pixel type {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return _flatten_alpha(image)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    raise MediaError(f"{name}: unsupported image shape {image.shape}")


def _flatten_alpha(bgra: np.ndarray) -> np.ndarray:
    """Transparent pixels become white, as a viewer shows them; their stored colour is often arbitrary."""
    alpha = bgra[:, :, 3:4].astype(np.float32) / 255.0
    white = np.full_like(bgra[:, :, :3], 255, dtype=np.float32)
    return (bgra[:, :, :3].astype(np.float32) * alpha + white * (1.0 - alpha) + 0.5).astype(np.uint8)


def _jpeg_complete(data: bytes) -> bool:
    """Walk the JPEG's segments and scans; True if an end-of-image marker is reached."""
    pos, size = 2, len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker that is not 00 or RSTn
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= size:
                    return False
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break
    return data[pos : pos + 2] == b"\xff\xd9"
