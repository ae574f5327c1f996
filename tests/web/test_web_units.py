"""The web layer's small pure parts, without a server: container sniffing, the offline docs page, page stripping."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi", reason="the web tests need the 'web' extra")

from emolens.io.media import upload_video_suffix as video_suffix
from emolens.web.offline import StripRemoteAssets, docs_page


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
    from emolens.web.pool import WorkPool
    from emolens.web.ui_handlers import Cancelled, Handlers

    handlers = Handlers(Recognizer(), WorkPool(1, 4), tmp_path)
    clip = media_file("single_face.mp4")
    handlers.stop("tab")  # Stop pressed while nothing runs: the next run must not be ended by it
    done = handlers.video(clip, "en", None, session="tab")
    assert "72 frames" in done.summary and done.track_rows

    def stop_at_frame_5(frame: int, _total: int | None) -> None:
        if frame == 5:
            handlers.stop("tab")

    # Stop pressed once frame 5 is done: the run ends there, before frame 6 is processed.
    with pytest.raises(Cancelled, match=r"single_face\.mp4: stopped at frame 5"):
        handlers.video(clip, "en", stop_at_frame_5, session="tab")


def test_the_frame_cap_is_written_one_way() -> None:
    from emolens.errors import InputTooLargeError
    from emolens.web.options import WebOptions

    options = WebOptions()
    options.check_frame_size((3840, 2160), "uhd.mp4")  # 4K UHD fits
    options.check_frame_size((2160, 3840), "portrait.mp4")  # the cap counts pixels, whichever way round
    with pytest.raises(InputTooLargeError) as refused:
        options.check_frame_size((4096, 2160), "dci.mp4")
    # In megapixels, as the photo limit is, and the same number `emolens serve --help` and the docs give.
    assert (
        str(refused.value)
        == "dci.mp4: frames of 4096x2160 pixels are over the server's limit of 8.3 megapixels per frame"
    )


def test_the_gradio_self_test_passes_here_and_names_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio import queueing

    from emolens.web import gradio_compat

    gradio_compat.check_gradio()  # the installed Gradio is the one the app was built against

    def clean_events(self: object, session_hash: str | None = None) -> None:  # a sync stand-in, one keyword
        return None

    # A Gradio whose hook took other arguments would leave the Stop-on-close broken without a word.
    monkeypatch.setattr(queueing.Queue, "clean_events", clean_events)
    with pytest.raises(gradio_compat.GradioCompatError, match=r"^Gradio \S+: Queue\.clean_events is no longer"):
        gradio_compat.check_gradio()


def test_the_gradio_self_test_checks_the_page_template(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from emolens.web import gradio_compat

    # A regex that no longer catches the template's CDN script would let the page fetch from elsewhere.
    monkeypatch.setattr(gradio_compat, "REMOTE_TAGS", re.compile(rb"<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>"))
    with pytest.raises(gradio_compat.GradioCompatError, match="page template"):
        gradio_compat.check_gradio()


@pytest.mark.parametrize(
    ("seen", "tab", "message"),
    [
        ('{"name": "clip.mp4", "type": "video/mp4"}', "photo", "⚠ clip.mp4 is a video: use the Video tab."),
        ('{"name": "clip.mkv", "type": ""}', "photo", "⚠ clip.mkv is a video: use the Video tab."),
        ('{"name": "notes.txt", "type": "text/plain"}', "photo", "⚠ notes.txt is not a picture this tab reads"),
        ('{"name": "face.jpg", "type": "image/jpeg"}', "video", "⚠ face.jpg is a photo: use the Photo tab."),
        ('{"name": "../../etc/x.png", "type": ""}', "video", "⚠ x.png is a photo: use the Photo tab."),
        ('{"name": "notes.txt", "type": "text/plain"}', "video", "⚠ notes.txt is not a video clip this tab reads"),
        ("not json", "video", "⚠ file is not a video clip"),
    ],
)
def test_a_file_in_the_wrong_tab_is_told_the_right_one(seen: str, tab: str, message: str) -> None:
    from emolens.web.ui_handlers import wrong_tab_message

    assert wrong_tab_message(seen, tab, "en").startswith(message)
    # In the page's language, naming the tab as its button does.
    assert wrong_tab_message('{"name": "a.jpg", "type": "image/jpeg"}', "video", "id") == (
        "⚠ a.jpg adalah foto: gunakan tab Foto."
    )


def test_the_phone_chart_is_one_face_per_row_numbered_as_on_the_picture() -> None:
    import numpy as np

    from emolens.render import load_label_atlas
    from emolens.types import Box, FaceResult, FrameResult
    from emolens.web.ui_handlers import NARROW_CHART_PX, narrow_faces_chart

    faces = tuple(FaceResult(Box(10 * i, 0, 10 * i + 8, 8), tuple(np.eye(7)[i % 7] * 0.9 + 0.1 / 7)) for i in range(4))
    atlas = load_label_atlas()
    one = narrow_faces_chart(FrameResult(faces[:1]), "en", atlas=atlas)
    four = narrow_faces_chart(FrameResult(faces), "en", atlas=atlas)
    assert one.shape[1] == four.shape[1] == NARROW_CHART_PX
    assert four.shape[0] == 4 * one.shape[0]
    # Each panel carries its face's number (a white digit on black at the panel's top-left), not "1" four times.
    tags = [four[k * one.shape[0] + 6 : k * one.shape[0] + 30, 8:38] for k in range(4)]
    assert len({tag.tobytes() for tag in tags}) == 4
    assert narrow_faces_chart(FrameResult(), "en", atlas=atlas).shape == one.shape  # no face: one blank panel


def test_the_camera_frame_rate_never_covers_a_face_label_in_the_top_left_corner() -> None:
    import numpy as np

    from emolens.render import annotate, load_label_atlas
    from emolens.types import Box, FaceResult, FrameResult

    # A face filling the left of the frame from its top edge: its label can only go inside the box's top
    # edge, at (0, 0), where the frame rate was drawn over its number.
    frame = np.full((360, 640, 3), 90, np.uint8)
    result = FrameResult((FaceResult(Box(0, 0, 300, 360), (0.02, 0.02, 0.02, 0.86, 0.04, 0.02, 0.02)),))
    atlas = load_label_atlas()
    without = annotate(frame, result, "en", atlas=atlas, labels_only=True)
    with_fps = annotate(frame, result, "en", fps=9.5, atlas=atlas, labels_only=True)
    label = (slice(0, 16), slice(0, 120))
    assert np.array_equal(with_fps[label], without[label]), "the frame rate covers the face's label"
    changed = np.argwhere((with_fps != without).any(axis=2))
    assert changed.size and changed[:, 1].min() > 320, "the frame rate went to the free top-right corner"
