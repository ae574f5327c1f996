"""io/media: the one table of media types, and a check that no other module keeps suffix sets or magic bytes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from emolens.errors import InputTooLargeError
from emolens.io import media
from support import shared_path

PACKAGE = Path(media.__file__).resolve().parents[1]
#: Every suffix and leading-byte signature media.py knows, read from its own source (the grep test's targets).
MEDIA_SOURCE = Path(media.__file__).read_text(encoding="utf-8")
KNOWN_SUFFIXES = media.MEDIA_SUFFIXES | media.UPLOAD_CONTAINERS | media.WRITABLE_IMAGE_SUFFIXES | {".asf"}
SIGNATURES = {
    node.value
    for node in ast.walk(ast.parse(MEDIA_SOURCE))
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes) and len(node.value) >= 2
}


def test_the_table_agrees_with_itself() -> None:
    assert {".ogv", ".3gp"} <= media.VIDEO_SUFFIXES  # the two the old copies disagreed on
    assert media.ISO_BMFF_SUFFIXES <= media.VIDEO_SUFFIXES
    assert media.WRITABLE_IMAGE_SUFFIXES <= media.IMAGE_SUFFIXES
    assert not media.IMAGE_SUFFIXES & media.VIDEO_SUFFIXES


@pytest.mark.parametrize(
    ("name", "kind"),
    [("single_face.jpg", "photo"), ("astronaut.png", "photo"), ("single_face.mp4", "video"),
     ("face_noface.mov", "video")],
)  # fmt: skip
def test_media_kind_of_the_shared_files(name: str, kind: str) -> None:
    path = shared_path("media", name)
    head = path.read_bytes()[: media.SIGNATURE_BYTES]
    assert media.media_kind(head, "renamed.bin") == kind  # by content, whatever the name


def test_unknown_bytes_follow_the_name_and_containers_win_over_it() -> None:
    assert media.media_kind(b"not an image at all", "x.jpg") == "photo"  # the image reader names the problem
    assert media.media_kind(b"not a video at all!", "x.bin") == "video"
    mp4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"
    assert media.media_kind(mp4, "x.jpg") == "video"


def test_still_images_and_gif() -> None:
    assert media.image_format(b"GIF89a\x01\x00\x01\x00") == "GIF"
    assert media.still_image_format(b"GIF89a\x01\x00\x01\x00") is None
    assert media.image_format(b"P6\n4 4\n255\n") == "PNM"
    assert media.image_format(b"P6x") is None  # a PNM magic number is followed by whitespace


def test_uploads_take_the_common_containers_only() -> None:
    flv = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00"
    assert media.video_container(flv) == ".flv"
    assert media.upload_video_suffix(flv) is None
    ts = b"\x47" + b"\x00" * 187 + b"\x47"
    assert media.upload_video_suffix(ts) == ".ts"


def test_one_frame_size_check_names_what_it_is_given() -> None:
    media.check_frame_size((100, 100), "a.mp4", 10_000)
    with pytest.raises(InputTooLargeError, match=r"^clip\.mp4: frames of 200x100 pixels are over the server's limit "
                                                 r"of 0\.01 megapixels per frame$"):  # fmt: skip
        media.check_frame_size((200, 100), "clip.mp4", 10_000, "the server's limit")


def _strays(path: Path) -> list[str]:
    """Suffix sets (a literal set, tuple or list holding two or more media suffixes) and magic bytes in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Set | ast.Tuple | ast.List):
            suffixes = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in KNOWN_SUFFIXES]
            if len(suffixes) >= 2:
                found.append(f"line {node.lineno}: suffix set {suffixes}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bytes) and node.value in SIGNATURES:
            found.append(f"line {node.lineno}: signature {node.value!r}")
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('A = {".mp4", ".mov"}\nB = b"\\x89PNG\\r\\n\\x1a\\n"\nC = ".mp4"\n', encoding="utf-8")
    assert len(_strays(planted)) == 2  # one suffix alone (an output's name) is not a set


def test_no_suffix_set_or_magic_bytes_outside_io_media() -> None:
    strays = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.resolve() != Path(media.__file__).resolve() and (found := _strays(path))
    }
    assert not strays, f"media knowledge outside io/media.py: {strays}"
