"""The web layer's small pure parts, without a server: container sniffing, the offline docs page, page stripping."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi", reason="the web tests need the 'web' extra")

from emolens.web.offline import StripRemoteAssets, docs_page
from emolens.web.sniff import video_suffix


@pytest.mark.parametrize(
    ("head", "suffix"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", ".mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ".mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81", ".mkv"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", ".avi"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00", ".ogv"),
        (b"just some text\n" * 4, None),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", None),
        (b"\x00\x00", None),
    ],
)
def test_video_suffix_recognises_real_containers_only(head: bytes, suffix: str | None) -> None:
    assert video_suffix(head) == suffix


def test_docs_page_lists_routes_and_fetches_nothing() -> None:
    schema = {
        "info": {"title": "emolens", "version": "1.0", "description": "d <b>"},
        "paths": {
            "/api/v1/analyze": {
                "post": {
                    "summary": "emotions",
                    "requestBody": {"content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/B"}}}},
                    "responses": {"200": {"description": "ok"}, "413": {"description": "too big"}},
                }
            }
        },
        "components": {"schemas": {"B": {"properties": {"file": {"description": "an image"}}}}},
    }
    page = docs_page(schema)
    assert "POST /api/v1/analyze" in page and "-F file=@FILE" in page and "too big" in page
    assert "d &lt;b&gt;" in page  # escaped
    assert "http://" not in page.replace("http://HOST:PORT", "") and "https://" not in page


def test_strip_remote_assets_removes_cdn_tags_and_fixes_length() -> None:
    page = (
        b'<html><head><link rel="preconnect" href="https://fonts.googleapis.com" />'
        b'<script src="https://cdn.example/x.js" async></script><script src="./local.js"></script></head></html>'
    )

    async def app(scope: object, receive: object, send: object) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": page})  # type: ignore[operator]

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    asyncio.run(StripRemoteAssets(app)({"type": "http", "method": "GET", "path": "/"}, receive, send))
    body = sent[1]["body"]
    assert isinstance(body, bytes)
    assert b"https://" not in body and b'<script src="./local.js"></script>' in body
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(body)).encode()  # type: ignore[call-overload]


def test_stop_ends_only_the_run_in_progress(tmp_path, media_file) -> None:
    from emolens.api import Recognizer
    from emolens.web.limits import WorkPool
    from emolens.web.ui_handlers import Cancelled, Handlers

    handlers = Handlers(Recognizer(), WorkPool(1, 4), tmp_path)
    clip = media_file("single_face.mp4")
    handlers.stop("tab")  # Stop pressed while nothing runs: the next run must not be ended by it
    done = handlers.video(clip, "en", None, session="tab")
    assert "72 frames" in done.summary and done.track_rows

    def stop_at_frame_5(frame: int, _total: int | None) -> None:
        if frame == 5:
            handlers.stop("tab")

    with pytest.raises(Cancelled, match=r"single_face\.mp4: stopped at frame 6"):
        handlers.video(clip, "en", stop_at_frame_5, session="tab")


def test_the_frame_cap_is_written_one_way() -> None:
    from emolens.errors import InputTooLargeError
    from emolens.web.limits import check_frame_size
    from emolens.web.options import WebOptions

    cap = WebOptions().max_frame_pixels
    check_frame_size((3840, 2160), "uhd.mp4", cap)  # 4K UHD fits
    check_frame_size((2160, 3840), "portrait.mp4", cap)  # the cap counts pixels, whichever way round
    with pytest.raises(InputTooLargeError) as refused:
        check_frame_size((4096, 2160), "dci.mp4", cap)
    # In megapixels, as the photo limit is, and the same number `emolens serve --help` and the docs give.
    assert (
        str(refused.value)
        == "dci.mp4: frames of 4096x2160 pixels are over the server's limit of 8.3 megapixels per frame"
    )
