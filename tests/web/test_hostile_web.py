"""Hostile input against a real `emolens serve`, through the real HTTP routes (REST and Gradio's own).

Each test here failed on the code before issue 18 was fixed: files read outside the upload folder,
image bombs that killed the server, unbounded Gradio routes, a 413 that urllib never saw, 404s in
Gradio's shape for wrong methods, cross-site POSTs processed, uploads left behind after shutdown.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

httpx = pytest.importorskip("httpx", reason="the web tests need the 'web' extra")
Server = Any  # tests/web/conftest.py's Server, reached through fixtures
TIMEOUT_S = 120.0


# ---------------------------------------------------------------- helpers


def jpeg_bomb(width_px: int, height_px: int) -> bytes:
    """A real, tiny JPEG whose frame header is patched to declare width x height pixels (3 KB)."""
    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    assert ok
    raw = bytearray(data.tobytes())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", height_px, width_px)
    return bytes(raw)


def png_bomb(width_px: int, height_px: int) -> bytes:
    """A PNG whose IHDR declares width x height RGB pixels, followed by a short valid IDAT (CRCs correct)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width_px, height_px, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (3 * width_px + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def assert_json_error(response: Any, status: int, server: Server) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and error and "\n" not in error and "Traceback" not in error
    assert "/tmp" not in error and str(Path.cwd()) not in error  # no server path is echoed
    assert server.process.poll() is None
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    return error


def fn_index(server: Server, input_elem_id: str) -> int:
    """The id of the UI event whose first input is the component with `input_elem_id`."""
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == input_elem_id}
    for dependency in config["dependencies"]:
        if dependency["inputs"] and dependency["inputs"][0] in ids and dependency.get("backend_fn"):
            return int(dependency["id"])
    raise AssertionError(f"no event takes {input_elem_id} as its first input")


def gradio_event(server: Server, index: int, data: list[Any]) -> dict[str, Any]:
    """Join the queue with `data` for event `index` through the real routes; the completion message.

    Inputs beyond `data` get their component's current value from /config, as the page would send them."""
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    inputs = next(d["inputs"] for d in config["dependencies"] if d["id"] == index)
    data = [*data, *(values.get(i) for i in inputs[len(data) :])]
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None}
    joined = httpx.post(f"{server.url}/gradio_api/queue/join", json=body, timeout=30)
    assert joined.status_code == 200, joined.text
    url = f"{server.url}/gradio_api/queue/data"
    with httpx.stream("GET", url, params={"session_hash": session}, timeout=TIMEOUT_S) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def assert_no_server_path(message: dict[str, Any], sent: str | Path = "") -> None:
    """A refusal may repeat the path the client sent; it must not show where the server keeps files."""
    text = json.dumps(message).replace(str(sent), "<sent>") if sent else json.dumps(message)
    for secret in ("/tmp/gradio", f"{tempfile.gettempdir()}/tmp", "/uploads/", str(Path.cwd()), "site-packages"):
        assert secret not in text, text


def file_data(path: str | Path) -> dict[str, Any]:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def video_value(server: Server, path: str | Path) -> dict[str, Any]:
    """What the Video tab's input sends for a file: a gr.Video wraps the FileData, a gr.File does not."""
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    kind = next(c["type"] for c in config["components"] if c.get("props", {}).get("elem_id") == "video-input")
    return {"video": file_data(path)} if kind == "video" else file_data(path)


def upload(server: Server, name: str, data: bytes) -> Path:
    """A file uploaded through Gradio's own route; the server path it answers with."""
    response = httpx.post(f"{server.url}/gradio_api/upload", files=[("files", (name, data))], timeout=30)
    assert response.status_code == 200, response.text
    return Path(response.json()[0])


@pytest.fixture
def outside_image(tmp_path: Path, media_file: Callable[[str], Path]) -> Path:
    """A real photo the server can read but nobody uploaded."""
    target = tmp_path / "private" / "outside.jpg"
    target.parent.mkdir()
    shutil.copy(media_file("single_face.jpg"), target)
    return target


# ---------------------------------------------------------------- 1. files outside the upload folder


def test_ui_refuses_a_server_file_named_in_an_event(server: Server, outside_image: Path) -> None:
    index = fn_index(server, "photo-input")
    message = gradio_event(server, index, [file_data(outside_image), "en"])
    assert message["success"] is False, "the UI analysed a file that was never uploaded"
    assert_no_server_path(message)
    assert server.process.poll() is None


def test_etc_passwd_is_neither_copied_nor_served(server: Server) -> None:
    index = fn_index(server, "photo-input")
    upload_root = upload(server, "probe.txt", b"probe").parent.parent
    message = gradio_event(server, index, [file_data("/etc/passwd"), "en"])
    assert message["success"] is False
    assert_no_server_path(message)
    assert not list(upload_root.rglob("passwd")), "/etc/passwd was copied into the upload cache"
    for path in ("/etc/passwd", f"{upload_root}/../../etc/passwd", f"{upload_root}/x/../../../../../etc/passwd"):
        served = httpx.get(f"{server.url}/gradio_api/file={path}", timeout=10)
        assert served.status_code in (403, 404) and "root:" not in served.text, path


def test_symlink_and_dotdot_out_of_the_upload_folder_are_refused(server: Server, outside_image: Path) -> None:
    index = fn_index(server, "photo-input")
    uploaded = upload(server, "real.jpg", outside_image.read_bytes())
    works = gradio_event(server, index, [file_data(uploaded), "en"])
    assert works["success"] is True, f"{works}\n{server.log_tail()}"  # a real upload works
    link = uploaded.parent / "link.jpg"
    os.symlink(outside_image, link)
    dotdot = f"{uploaded.parent}/../../../../../..{outside_image}"
    for path in (link, dotdot):
        message = gradio_event(server, index, [file_data(path), "en"])
        assert message["success"] is False, path
        assert_no_server_path(message, path)
        assert str(outside_image.parent) not in json.dumps(message)


def test_video_tab_refuses_a_server_file(server: Server, media_file: Callable[[str], Path]) -> None:
    index = fn_index(server, "video-input")
    message = gradio_event(server, index, [video_value(server, media_file("single_face.mp4")), "en"])
    assert message["success"] is False
    # Refused by a path check (Gradio's, then ours), not by a malformed request.
    assert "not uploaded by a user" in server.log_tail(200) or "not a file uploaded" in json.dumps(message)


# ---------------------------------------------------------------- 2. image bombs


@pytest.mark.parametrize("bomb", [jpeg_bomb(30000, 30000), png_bomb(30000, 30000), jpeg_bomb(16000, 16000)])
def test_image_bomb_is_413_before_decoding(server: Server, bomb: bytes) -> None:
    response = httpx.post(f"{server.url}/api/v1/analyze", files={"file": ("bomb.jpg", bomb)}, timeout=TIMEOUT_S)
    error = assert_json_error(response, 413, server)
    assert "bomb.jpg" in error and "megapixels" in error


def test_image_bomb_in_the_photo_tab_leaves_the_server_up(server: Server) -> None:
    uploaded = upload(server, "bomb.jpg", jpeg_bomb(30000, 30000))
    message = gradio_event(server, fn_index(server, "photo-input"), [file_data(uploaded), "en"])
    # The tab shows emolens's one-line refusal in its summary (or fails the event): no picture either way.
    refused = message["success"] is False or (
        message["output"]["data"][0] is None and "megapixels" in json.dumps(message["output"]["data"])
    )
    assert refused, message
    assert_no_server_path(message)
    assert server.process.poll() is None


# ---------------------------------------------------------------- 4. Gradio's routes are bounded too


def test_gradio_upload_is_bounded_per_request(server: Server) -> None:
    files = [("files", (f"part{i}.bin", b"\0" * (1024 * 1024))) for i in range(server.max_upload_mb + 3)]
    response = httpx.post(f"{server.url}/gradio_api/upload", files=files, timeout=TIMEOUT_S)
    assert_json_error(response, 413, server)


def test_gradio_queue_join_is_bounded(server: Server) -> None:
    body = {"data": ["x" * (server.max_upload_mb + 1) * 1024 * 1024], "fn_index": 0, "session_hash": "s"}
    response = httpx.post(f"{server.url}/gradio_api/queue/join", json=body, timeout=TIMEOUT_S)
    assert_json_error(response, 413, server)


def oversized_body(route: str, size_bytes: int) -> tuple[list[bytes], str]:
    """A well-formed body of about `size_bytes` for `route` (multipart for uploads, JSON for the queue),
    in 256 KB pieces, and its content type."""
    piece = 256 * 1024
    pieces = size_bytes // piece + 1
    if route.endswith("/queue/join"):
        return [b'{"fn_index": 0, "data": ["', *[b"x" * piece] * pieces, b'"]}'], "application/json"
    field = "files" if route.endswith("/upload") else "file"
    head = f'--cut\r\nContent-Disposition: form-data; name="{field}"; filename="big.jpg"\r\n\r\n'.encode()
    return [head, *[b"\0" * piece] * pieces, b"\r\n--cut--\r\n"], "multipart/form-data; boundary=cut"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize(
    "route", ["/gradio_api/upload", "/gradio_api/queue/join", "/api/v1/analyze", "/api/v1/analyze-video"]
)
def test_every_route_refuses_an_oversized_body_in_one_shape(server: Server, route: str, chunked: bool) -> None:
    pieces, content_type = oversized_body(route, (server.max_upload_mb + 2) * 1024 * 1024)
    # A generator makes httpx send Transfer-Encoding: chunked with no Content-Length, as a streaming client does.
    content = iter(pieces) if chunked else b"".join(pieces)
    response = httpx.post(
        f"{server.url}{route}", content=content, headers={"Content-Type": content_type}, timeout=TIMEOUT_S
    )
    assert "larger than the limit" in assert_json_error(response, 413, server)


def test_a_malformed_upload_to_gradio_is_one_line_not_a_traceback(server: Server) -> None:
    garbage = b"\0" * 4096  # no boundary at all
    response = httpx.post(
        f"{server.url}/gradio_api/upload",
        content=iter([garbage]),
        headers={"Content-Type": "multipart/form-data; boundary=cut"},
        timeout=TIMEOUT_S,
    )
    assert "malformed" in assert_json_error(response, 400, server)


# ---------------------------------------------------------------- 6. ordinary clients read the refusal


def test_urllib_sending_60_mb_reads_the_413(server: Server) -> None:
    boundary = "emolensboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n'.encode()
    body = head + b"\xff\xd8" + bytes(60 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/analyze",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=TIMEOUT_S)
    assert caught.value.code == 413
    assert "larger than the limit" in json.loads(caught.value.read())["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/analyze"), ("PUT", "/api/v1/analyze-video"), ("DELETE", "/healthz"), ("FOO", "/api/v1/analyze")],
)
def test_wrong_method_is_405_json(server: Server, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.url}{path}", timeout=10)
    assert_json_error(response, 405, server)
    assert response.headers["allow"]


# ---------------------------------------------------------------- 7. cross-site requests


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_cross_site_posts_are_refused(
    server: Server, headers: dict[str, str], media_file: Callable[[str], Path]
) -> None:
    photo = media_file("single_face.jpg").read_bytes()
    response = httpx.post(
        f"{server.url}/api/v1/analyze", files={"file": ("a.jpg", photo)}, headers=headers, timeout=TIMEOUT_S
    )
    assert_json_error(response, 403, server)
    join = httpx.post(f"{server.url}/gradio_api/queue/join", json={"data": []}, headers=headers, timeout=10)
    assert_json_error(join, 403, server)


def test_same_origin_posts_are_served(server: Server, media_file: Callable[[str], Path]) -> None:
    photo = media_file("single_face.jpg").read_bytes()
    headers = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    response = httpx.post(
        f"{server.url}/api/v1/analyze", files={"file": ("a.jpg", photo)}, headers=headers, timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text


def long_still_clip(path: Path, photo: Path, frames: int = 2000) -> Path:
    """`frames` frames of one photo at 160x120: many seconds of work for the server in 1.2 MB."""
    image = cv2.resize(cv2.imread(str(photo)), (160, 120))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 24.0, (160, 120))
    for _ in range(frames):
        writer.write(image)
    writer.release()
    return path


def test_video_tab_stops_when_the_page_goes_away(
    server: Server, tmp_path: Path, media_file: Callable[[str], Path]
) -> None:
    clip = long_still_clip(tmp_path / "long.mp4", media_file("single_face.jpg"))
    uploaded = upload(server, "long.mp4", clip.read_bytes())
    index = fn_index(server, "video-input")
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    inputs = next(d["inputs"] for d in config["dependencies"] if d["id"] == index)
    values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    data = [video_value(server, uploaded), "en", *(values.get(i) for i in inputs[2:])]
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None}
    assert httpx.post(f"{server.url}/gradio_api/queue/join", json=body, timeout=30).status_code == 200
    seen: list[str] = []
    with httpx.stream(
        "GET", f"{server.url}/gradio_api/queue/data", params={"session_hash": session}, timeout=TIMEOUT_S
    ) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]).get("msg", ""))
                if seen[-1] in ("progress", "process_completed"):
                    break  # frames are being analysed: the page goes away (the stream is closed)
    assert seen[-1] == "progress", seen
    # The server logs where the clip stopped; without the stop it would run all 2000 frames and log nothing.
    log_line = ""
    for _ in range(240):
        log_line = next((ln for ln in server.log_tail(400).splitlines() if "long.mp4: the client disc" in ln), "")
        if log_line:
            break
        time.sleep(0.25)
    assert log_line, server.log_tail()
    stopped_at = int(log_line.rsplit("at frame ", 1)[1].split()[0])
    assert stopped_at < 2000, log_line
    # The worker is free: a clip on the REST route (which shares the one heavy slot) is answered.
    short = httpx.post(
        f"{server.url}/api/v1/analyze-video",
        files={"file": ("s.mp4", media_file("single_face.mp4").read_bytes())},
        timeout=TIMEOUT_S,
    )
    assert short.status_code == 200 and short.json()["frames_analyzed"] > 0


# ---------------------------------------------------------------- 3. caps per request, and a server of tight limits


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory, server_factory: Any) -> Iterator[Server]:
    args = ["--max-video-frames", "10", "--max-frame-pixels", "300000", "--allow-origin", "http://trusted.example"]
    with server_factory(tmp_path_factory.mktemp("strict"), args) as running:
        yield running


def test_frame_cap_is_the_same_in_rest_and_ui(strict_server: Server, media_file: Callable[[str], Path]) -> None:
    clip = media_file("single_face.mp4")  # 72 frames of 640x360
    response = httpx.post(
        f"{strict_server.url}/api/v1/analyze-video", files={"file": ("c.mp4", clip.read_bytes())}, timeout=TIMEOUT_S
    )
    body = response.json()
    assert response.status_code == 200 and body["frames_analyzed"] == 10
    assert "first 10 frames" in body["error"]
    uploaded = upload(strict_server, "c.mp4", clip.read_bytes())
    message = gradio_event(
        strict_server, fn_index(strict_server, "video-input"), [video_value(strict_server, uploaded), "en"]
    )
    assert message["success"] is True, f"{message}\n{strict_server.log_tail()}"
    summary = message["output"]["data"][-1]
    assert summary.startswith("10 frames") and "first 10 frames" in summary


def test_frames_over_the_pixel_cap_are_413(strict_server: Server, media_file: Callable[[str], Path]) -> None:
    clip = media_file("no_face.mp4")  # 960x540 > 300,000 pixels
    response = httpx.post(
        f"{strict_server.url}/api/v1/analyze-video", files={"file": ("big.mp4", clip.read_bytes())}, timeout=TIMEOUT_S
    )
    assert "megapixels per frame" in assert_json_error(response, 413, strict_server)


def test_allowed_origin_may_post(strict_server: Server) -> None:
    response = httpx.post(
        f"{strict_server.url}/api/v1/analyze",
        files={"file": ("e.jpg", b"")},
        headers={"Origin": "http://trusted.example"},
        timeout=10,
    )
    assert response.status_code == 422  # reached the route: empty file


def test_the_upload_reply_names_only_a_fresh_private_folder(server: Server) -> None:
    """Gradio's protocol needs the upload's server path echoed (the page sends it back in the event, and a
    path without its folder is refused: README, "Limits and hostile input"), so the path shows nothing but
    a random folder in the system's temporary folder, that no other user can read."""
    uploaded = upload(server, "mine.jpg", jpeg_bomb(20, 20))
    work = uploaded.parents[2]  # <work>/uploads/<hash of the content>/mine.jpg
    assert work.parent == Path(tempfile.gettempdir()) and uploaded.parts[-3] == "uploads"
    assert work.name.startswith("tmp") and "emolens" not in work.name.lower()
    assert stat.S_IMODE(work.stat().st_mode) & 0o077 == 0, oct(work.stat().st_mode)
    relative = "/".join(uploaded.parts[-2:])
    message = gradio_event(server, fn_index(server, "photo-input"), [file_data(relative), "en"])
    assert message["success"] is False, "a path without its folder was accepted: the reply could hide it"


# ---------------------------------------------------------------- 5. a memory mark


def test_over_the_memory_mark_videos_get_503_and_photos_still_work(
    tmp_path: Path, server_factory: Any, media_file: Callable[[str], Path]
) -> None:
    clip = media_file("single_face.mp4").read_bytes()
    with server_factory(tmp_path, ["--max-rss-mb", "1"]) as tight:  # any real process is over 1 MB
        response = httpx.post(f"{tight.url}/api/v1/analyze-video", files={"file": ("c.mp4", clip)}, timeout=TIMEOUT_S)
        error = assert_json_error(response, 503, tight)
        assert "--max-rss-mb 1" in error and int(response.headers["retry-after"]) > 0
        photo = media_file("single_face.jpg").read_bytes()
        answered = httpx.post(f"{tight.url}/api/v1/analyze", files={"file": ("p.jpg", photo)}, timeout=TIMEOUT_S)
        assert answered.status_code == 200 and answered.json()["faces"]
        uploaded = upload(tight, "c.mp4", clip)
        message = gradio_event(tight, fn_index(tight, "video-input"), [video_value(tight, uploaded), "en"])
        assert message["success"] is True and "--max-rss-mb 1" in message["output"]["data"][-1], message
        assert "memory mark: " in tight.log_tail(100)


# ---------------------------------------------------------------- 4. nothing left behind


def test_uploads_are_removed_when_the_server_stops(tmp_path: Path, server_factory: Any) -> None:
    with server_factory(tmp_path) as running:
        uploaded = upload(running, "left.jpg", jpeg_bomb(20, 20))
        assert uploaded.exists()
        assert not str(uploaded).startswith(("/tmp/gradio/", "/tmp/gradio")), "uploads share the global cache"
    assert not uploaded.exists(), "an upload outlived the server"
    assert not uploaded.parent.parent.exists()


# ---------------------------------------------------------------- 9. a file in the wrong tab, disguised by its name


def test_a_clip_named_like_a_photo_is_sent_to_the_video_tab(server: Server, media_file: Callable[[str], Path]) -> None:
    # Its name passes the page's check (image/jpeg by the suffix); the server reads what it is.
    uploaded = upload(server, "clip.jpg", media_file("single_face.mp4").read_bytes())
    message = gradio_event(server, fn_index(server, "photo-input"), [file_data(uploaded), "en"])
    assert message["success"] is True, message
    assert message["output"]["data"][1] == "⚠ clip.jpg is a video: use the Video tab."


def test_a_photo_named_like_a_clip_is_sent_to_the_photo_tab(server: Server, media_file: Callable[[str], Path]) -> None:
    uploaded = upload(server, "face.mp4", media_file("single_face.jpg").read_bytes())
    message = gradio_event(server, fn_index(server, "video-input"), [video_value(server, uploaded), "en"])
    assert message["success"] is True, message
    assert message["output"]["data"][4] == "⚠ face.mp4 is a photo: use the Photo tab."
    assert message["output"]["data"][0] is None  # nothing was analysed
