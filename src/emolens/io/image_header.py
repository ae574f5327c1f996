"""An image's format and pixel size from its first bytes, read before any decoder allocates the pixels.

A 3 KB JPEG can declare 30000x30000 pixels; decoding it first and checking after would already have
spent gigabytes. Only the formats emolens accepts are parsed; anything else is `None` and is refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from emolens.io.media import image_format

#: Bytes of the file enough for every header below except JPEG, whose size marker may follow long EXIF data.
HEAD_BYTES = 64 * 1024

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257


@dataclass(frozen=True)
class ImageHeader:
    """What the header declares: `format` ("JPEG", "PNG", ...), and width and height in pixels."""

    format: str
    width_px: int
    height_px: int

    @property
    def pixels(self) -> int:
        """Width times height: what the decoder will allocate, per channel, before any limit can act."""
        return self.width_px * self.height_px


def read_header(data: bytes) -> ImageHeader | None:
    """The format and declared size of the image whose bytes begin with `data`, without decoding it.

    Args:
        data: the file's bytes, or its start: at most the first HEAD_BYTES are needed for all formats but
            JPEG, whose size may come after long metadata segments.

    Returns:
        The header, or None when the format is unknown, the header is damaged or cut short, or it declares a
        zero or negative size.
    """
    kind = image_format(data)
    try:
        size = _SIZE_READERS[kind](data) if kind else None
    except (struct.error, IndexError, ValueError):
        size = None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    assert kind is not None
    return ImageHeader(kind, size[0], size[1])


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker == 0xDA:  # a scan before any frame header: malformed
            return None
        pos += 2 + length
    return None


def _png(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _bmp(data: bytes) -> tuple[int, int] | None:
    header_size = int.from_bytes(data[14:18], "little")
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
        return width, height
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)  # a negative height means top-down rows


def _tiff(data: bytes) -> tuple[int, int] | None:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    found: dict[int, int] = {}
    for index in range(count):
        entry = ifd + 2 + 12 * index
        tag, kind = struct.unpack(order + "HH", data[entry : entry + 4])
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT):
            fmt = "H" if kind == 3 else "I"
            (found[tag],) = struct.unpack(order + fmt, data[entry + 8 : entry + 8 + struct.calcsize(fmt)])
    if _TIFF_WIDTH not in found or _TIFF_HEIGHT not in found:
        return None
    return found[_TIFF_WIDTH], found[_TIFF_HEIGHT]


def _gif(data: bytes) -> tuple[int, int] | None:
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _pnm(data: bytes) -> tuple[int, int] | None:
    # "P6 <width> <height> ..." with whitespace and #-comments between the fields.
    numbers: list[int] = []
    text = data[2:256].split(b"\n")
    for line in text:
        for token in line.split(b"#", 1)[0].split():
            numbers.append(int(token))
            if len(numbers) == 2:
                return numbers[0], numbers[1]
    return None


_SIZE_READERS = {"JPEG": _jpeg, "PNG": _png, "WebP": _webp, "BMP": _bmp, "TIFF": _tiff, "GIF": _gif, "PNM": _pnm}
