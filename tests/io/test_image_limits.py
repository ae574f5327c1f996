"""The image limits every reader shares (io/images.py): header dimensions before decoding, regular files
only, a size limit; and the detector never sees a frame beyond its cap."""

from __future__ import annotations

import os
import struct

import cv2
import numpy as np
import pytest

from emolens.errors import InputTooLargeError, MediaError
from emolens.io.image_header import read_header
from emolens.io.images import DEFAULT_MAX_PIXELS, decode_image, read_image, read_regular_file


@pytest.mark.parametrize(
    ("suffix", "fmt", "params"),
    [
        (".jpg", "JPEG", []),
        (".jpg", "JPEG", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        (".png", "PNG", []),
        (".bmp", "BMP", []),
        (".tif", "TIFF", []),
        (".webp", "WebP", [cv2.IMWRITE_WEBP_QUALITY, 80]),
        (".webp", "WebP", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # lossless: the VP8L header
        (".ppm", "PNM", []),
        (".pgm", "PNM", []),
    ],
)
def test_header_size_matches_the_decoded_image(suffix, fmt, params):
    image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    if suffix == ".pgm":
        image = image[:, :, 0]
    ok, data = cv2.imencode(suffix, image, params)
    assert ok
    header = read_header(data.tobytes())
    assert header is not None and header.format == fmt
    assert (header.width_px, header.height_px) == (53, 37)


def test_jpeg_size_after_a_long_exif_block():
    _ok, data = cv2.imencode(".jpg", np.zeros((10, 20, 3), np.uint8))
    payload = b"Exif\x00\x00" + bytes(60000)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    raw = data.tobytes()
    header = read_header(raw[:2] + app1 + raw[2:])
    assert header is not None and (header.width_px, header.height_px) == (20, 10)


def test_declared_size_over_the_limit_is_refused_before_decoding():
    _ok, data = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
    raw = bytearray(data.tobytes())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", 30000, 30000)
    with pytest.raises(InputTooLargeError, match=r"bomb\.jpg: JPEG of 30000x30000 pixels is over the limit of 50"):
        decode_image(bytes(raw), "bomb.jpg")
    with pytest.raises(InputTooLargeError):
        decode_image(data.tobytes(), "small.jpg", max_pixels=100)
    assert decode_image(data.tobytes(), "small.jpg", max_pixels=256).shape == (16, 16, 3)


def test_unknown_formats_and_damaged_headers_are_media_errors():
    for data in (b"GIF89a", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, b"P6 abc", b"II*\x00\xff\xff\xff\xff", b"hello"):
        with pytest.raises(MediaError, match="not a readable image"):
            decode_image(data, "x")


def test_only_regular_files_within_the_size_limit_are_read(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="not a regular file"):
        read_image(fifo)  # returns at once: the FIFO is never waited on
    with pytest.raises(MediaError, match="not a regular file"):
        read_image("/dev/zero")
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 2000)
    with pytest.raises(InputTooLargeError, match="over the limit"):
        read_regular_file(big, max_file_bytes=1000)
    assert len(read_regular_file(big, max_file_bytes=2000)) == 2000


def test_the_limits_have_one_definition():
    # DEFAULT_MAX_PIXELS is read, never retyped, by both commands' --max-pixels and by the web app's options.
    from emolens.cli import build_parser
    from emolens.web.options import WebOptions

    assert DEFAULT_MAX_PIXELS == 50_000_000 == WebOptions().max_pixels
    assert build_parser().parse_args(["analyze", "x.jpg"]).max_pixels == DEFAULT_MAX_PIXELS
    assert build_parser().parse_args(["serve"]).max_pixels == DEFAULT_MAX_PIXELS


def test_the_detector_never_sees_more_than_its_cap(monkeypatch):
    from emolens.runtime.detectors.base import MAX_DETECT_SIDE_PX
    from emolens.runtime.detectors.haar import HaarFaceDetector

    seen: list[tuple[int, ...]] = []
    haar = HaarFaceDetector(min_face_px=40)
    real = haar._cascade()

    class Spy:
        def detectMultiScale3(self, gray, **kwargs):
            seen.append(gray.shape)
            return real.detectMultiScale3(gray, **kwargs)

    monkeypatch.setattr(haar, "_cascade", lambda: Spy())
    haar.detect(np.zeros((6000, 8000), np.uint8))  # 48 MP: under the pixel limit, far over the cap
    assert max(seen[0]) <= MAX_DETECT_SIDE_PX
