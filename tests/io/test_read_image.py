from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.errors import MediaError
from emolens.io.images import decode_image, read_image


def exif_orientation_segment(orientation: int) -> bytes:
    """An APP1 Exif segment holding only the Orientation tag (0x0112), little-endian TIFF, written by hand."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    tiff = b"II" + struct.pack("<HI", 42, 8) + ifd
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def test_bgr_jpeg_and_png(tmp_path, tiny_bgr):
    png = tmp_path / "a.png"
    cv2.imwrite(str(png), tiny_bgr)
    out = read_image(png)
    assert out.shape == (64, 80, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, tiny_bgr)
    jpg = tmp_path / "a.jpg"
    jpg.write_bytes(jpeg_bytes(tiny_bgr))
    assert np.abs(read_image(jpg).astype(int) - tiny_bgr).mean() < 3


def test_grayscale_becomes_bgr(tmp_path):
    gray = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (30, 1))
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    out = read_image(tmp_path / "g.png")
    assert out.shape == (30, 50, 3)
    np.testing.assert_array_equal(out[:, :, 0], gray)
    np.testing.assert_array_equal(out[:, :, 2], gray)


def test_16_bit_png_scales_to_8_bit(tmp_path, tiny_bgr):
    cv2.imwrite(str(tmp_path / "deep.png"), tiny_bgr.astype(np.uint16) * 257)
    out = read_image(tmp_path / "deep.png")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, tiny_bgr)


def test_bgra_png_flattens_transparency_onto_white(tmp_path, tiny_bgr):
    bgra = cv2.cvtColor(tiny_bgr, cv2.COLOR_BGR2BGRA)
    bgra[:, :40, 3] = 0  # left half transparent
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    out = read_image(tmp_path / "alpha.png")
    assert out.shape == (64, 80, 3)
    assert np.all(out[:, :40] == 255)
    np.testing.assert_array_equal(out[:, 40:], tiny_bgr[:, 40:])


def test_rgb_png_comes_back_in_bgr_order(tmp_path):
    red_bgr = np.zeros((8, 8, 3), np.uint8)
    red_bgr[:, :, 2] = 255
    cv2.imwrite(str(tmp_path / "red.png"), red_bgr)  # PNG stores RGB; OpenCV writes it from BGR
    out = read_image(tmp_path / "red.png")
    assert out[0, 0].tolist() == [0, 0, 255]


@pytest.mark.parametrize(
    ("orientation", "expected_hw"), [(1, (40, 100)), (6, (100, 40)), (8, (100, 40)), (3, (40, 100))]
)
def test_exif_orientation_is_applied(tmp_path, orientation, expected_hw):
    image = np.zeros((40, 100, 3), np.uint8)
    image[:, :20] = 255  # a white band on the left, to see where it goes
    data = jpeg_bytes(image)
    rotated = data[:2] + exif_orientation_segment(orientation) + data[2:]
    path = tmp_path / f"exif{orientation}.jpg"
    path.write_bytes(rotated)
    out = read_image(path)
    assert out.shape[:2] == expected_hw
    if orientation == 6:  # rotate 90 clockwise to display: the left band becomes the top
        assert out[:10].mean() > 200 and out[-10:].mean() < 50
    if orientation == 3:  # 180 degrees: the band moves to the right
        assert out[:, -10:].mean() > 200 and out[:, :10].mean() < 50


def test_real_media_reads(media):
    assert read_image(media / "multi_face.jpg").shape == (667, 1000, 3)
    assert read_image(media / "astronaut.png").shape == (512, 512, 3)


def bad_inputs(tmp_path: Path, tiny_bgr: np.ndarray) -> dict[str, Path]:
    full = jpeg_bytes(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8))
    _, png = cv2.imencode(".png", tiny_bgr)
    files = {
        "missing": tmp_path / "missing.jpg",
        "empty": tmp_path / "empty.jpg",
        "truncated-jpeg": tmp_path / "cut.jpg",
        "truncated-png": tmp_path / "cut.png",
        "corrupt": tmp_path / "corrupt.png",
        "not-an-image": tmp_path / "notes.jpg",
        "folder": tmp_path / "folder.png",
    }
    files["empty"].write_bytes(b"")
    files["truncated-jpeg"].write_bytes(full[: len(full) // 2])
    files["truncated-png"].write_bytes(png.tobytes()[: len(png) // 2])
    files["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    files["not-an-image"].write_text("just some text, not a picture\n")
    files["folder"].mkdir()
    return files


def test_every_bad_input_is_a_media_error_naming_the_file(tmp_path, tiny_bgr):
    for kind, path in bad_inputs(tmp_path, tiny_bgr).items():
        with pytest.raises(MediaError) as caught:
            read_image(path)
        message = str(caught.value)
        assert str(path) in message, kind
        assert "\n" not in message, kind


def test_decode_image_names_the_upload():
    with pytest.raises(MediaError, match=r"upload\.png: empty file"):
        decode_image(b"", "upload.png")
    with pytest.raises(MediaError, match=r"^upload\.bin: not a readable image"):
        decode_image(b"\x00" * 100, "upload.bin")
    image = decode_image(jpeg_bytes(np.full((20, 30, 3), 90, np.uint8)), "upload.jpg")
    assert image.shape == (20, 30, 3)


def test_jpeg_with_data_after_the_end_marker_still_reads(tmp_path, tiny_bgr):
    path = tmp_path / "trailer.jpg"
    path.write_bytes(jpeg_bytes(tiny_bgr) + b"camera trailer bytes")
    assert read_image(path).shape == (64, 80, 3)
