"""Still images from files or uploaded bytes -> BGR uint8 arrays, or a MediaError that names the input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emolens.errors import MediaError

_JPEG_SOI = b"\xff\xd8"


def read_image(path: str | Path) -> np.ndarray:
    """A BGR uint8 (H, W, 3) image, EXIF rotation applied; MediaError naming `path` if it cannot be one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MediaError(f"{path}: is a directory, not an image") from None
    except OSError as err:
        raise MediaError(f"{path}: cannot be read ({err.strerror or err})") from None
    return decode_image(data, str(path))


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Like read_image, for bytes already in memory (an upload); `name` is used in error messages."""
    if not data:
        raise MediaError(f"{name}: empty file")
    is_jpeg = data.startswith(_JPEG_SOI)
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
    return _to_bgr_u8(image, name)


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
