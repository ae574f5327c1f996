"""The server's guards without a server: the upload-folder check, the age sweep, the worker pool's heavy
lane, the per-request stop, the memory mark, and the request guard as plain ASGI."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web tests need the 'web' extra")

from emolens.errors import MediaError
from emolens.web.guard import RequestGuard
from emolens.web.pool import Cancel, MemoryMark, OverMemoryMarkError, WorkPool, resident_mb
from emolens.web.uploads import remove_old_files, uploaded_file


def test_only_regular_files_inside_the_upload_folder_pass(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    good = uploads / "abc" / "photo.jpg"
    good.write_bytes(b"x")
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"s")
    os.symlink(secret, uploads / "abc" / "link.jpg")
    os.symlink(tmp_path, uploads / "abc" / "up")
    assert uploaded_file(good, uploads) == good.resolve()
    refused = [
        secret,
        uploads / "abc" / "link.jpg",  # a symlink out
        uploads / "abc" / "up" / "secret.jpg",  # a folder symlink out
        f"{uploads}/abc/../../secret.jpg",  # .. out
        "/etc/passwd",
        uploads,  # the folder itself
        uploads / "abc",  # a folder inside
        uploads / "abc" / "gone.jpg",
    ]
    for path in refused:
        with pytest.raises(MediaError) as caught:
            uploaded_file(path, uploads)
        assert str(tmp_path) not in str(caught.value), path  # names the file only, never where it lives


def test_the_sweep_removes_old_uploads_only(tmp_path: Path) -> None:
    old, new = tmp_path / "a" / "old.jpg", tmp_path / "b" / "new.jpg"
    for path in (old, new):
        path.parent.mkdir()
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert remove_old_files(tmp_path, max_age_s=3600) == 1
    assert not old.exists() and not old.parent.exists() and new.exists()


def test_heavy_work_leaves_a_slot_for_light_work() -> None:
    pool = WorkPool(workers=2, max_waiting=8)
    release = threading.Event()
    started: list[str] = []

    def clip(name: str) -> None:
        started.append(name)
        release.wait(10)

    clips = [threading.Thread(target=pool.call, args=(clip, f"clip{i}"), kwargs={"heavy": True}) for i in range(2)]
    for thread in clips:
        thread.start()
    time.sleep(0.2)
    assert started == ["clip0"] or started == ["clip1"]  # the second clip waits for the heavy lane
    done = threading.Event()
    photo = threading.Thread(target=lambda: (pool.call(lambda: None), done.set()))
    photo.start()
    assert done.wait(5), "a photo waited behind clips"
    release.set()
    for thread in [*clips, photo]:
        thread.join(10)
    assert sorted(started) == ["clip0", "clip1"]


def test_cancel_reports_deadline_and_disconnect() -> None:
    cancel = Cancel(deadline_s=60)
    assert cancel.reason() is None
    cancel.client_gone()
    assert cancel.reason() == "the client disconnected"
    late = Cancel(deadline_s=0.01)
    time.sleep(0.05)
    assert "time limit of 0.01 s" in (late.reason() or "")


def _call(guard: RequestGuard, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    sent: list[dict] = []
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]

    async def receive() -> dict:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(guard(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


def test_request_guard_as_asgi() -> None:
    async def app(scope: dict, receive: object, send: object) -> None:
        while (await receive())["more_body"]:  # type: ignore[operator]
            pass  # a route reads its body before it answers
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    guard = RequestGuard(
        app, limit_bytes=1000, route_methods={"/api": frozenset({"POST"})}, allowed_origins=("http://ok.example",)
    )
    host = {"host": "127.0.0.1:7860"}
    assert _call(guard, "POST", "/api", host)[0] == 200
    status, headers = _call(guard, "GET", "/api", host)
    assert status == 405 and headers["allow"] == "POST"
    assert _call(guard, "POST", "/api", {**host, "origin": "http://evil.example"})[0] == 403
    assert _call(guard, "POST", "/api", {**host, "origin": "http://127.0.0.1:7860"})[0] == 200
    assert _call(guard, "POST", "/api", {**host, "origin": "http://ok.example"})[0] == 200
    assert _call(guard, "POST", "/x", {**host, "sec-fetch-site": "cross-site"})[0] == 403
    big = b"x" * 5000
    status, headers = _call(guard, "POST", "/x", {**host, "content-length": str(len(big))}, big)
    assert status == 413 and headers["connection"] == "close"
    assert _call(guard, "POST", "/x", {**host, "content-length": "12abc"})[0] == 413
    assert _call(guard, "POST", "/x", host, big)[0] == 413  # no Content-Length: counted as it arrives


def test_a_rest_clip_past_its_deadline_stops_with_what_it_has(media: Path) -> None:
    from emolens.api import Recognizer
    from emolens.web.api_routes import _analyze_video_file
    from emolens.web.options import WebOptions

    cancel = Cancel(deadline_s=60)
    cancel.client_gone()
    with pytest.raises(MediaError, match="the client disconnected before the first frame"):
        _analyze_video_file(Recognizer(), media / "single_face.mp4", "c.mp4", WebOptions(), cancel)
    body = _analyze_video_file(
        Recognizer(), media / "single_face.mp4", "c.mp4", WebOptions(max_video_frames=3), Cancel(60)
    )
    assert body["frames_analyzed"] == 3 and "first 3 frames" in body["error"]


def test_the_memory_mark_refuses_heavy_work_only() -> None:
    resident = resident_mb()
    if resident is None:
        pytest.skip("no /proc here: the mark is not enforced")
    assert 1 < resident < 1e6
    tight = WorkPool(workers=2, max_waiting=8, max_rss_mb=1)
    assert tight.call(lambda: "light") == "light"
    with pytest.raises(OverMemoryMarkError, match="--max-rss-mb 1"):
        tight.call(lambda: "heavy", heavy=True)
    for roomy in (WorkPool(2, 8, max_rss_mb=0), WorkPool(2, 8, max_rss_mb=1e9)):
        assert roomy.call(lambda: "heavy", heavy=True) == "heavy"


def test_a_clip_that_crosses_the_memory_mark_stops_there_with_what_it_has(media: Path) -> None:
    """The mark is one of the clip's stop rules: under it at the start, the clip runs; once the process's memory
    crosses it (real memory, 600 MB taken at frame 5), the clip ends at the next check with its frames so far."""
    from emolens.api import Recognizer
    from emolens.web.api_routes import _analyze_video_file
    from emolens.web.options import WebOptions

    recognizer = Recognizer()
    _analyze_video_file(recognizer, media / "single_face.mp4", "warm.mp4", WebOptions(max_video_frames=3), Cancel(60))
    resident = resident_mb()
    if resident is None:
        pytest.skip("no /proc here: the mark is not enforced")
    mark = MemoryMark(max_rss_mb=resident + 250, every_frames=10)
    taken: list[np.ndarray] = []

    def take_memory_at_frame_5(frames_done: int) -> str | None:
        if frames_done == 5:
            taken.append(np.ones(600 * 1024 * 1024 // 8))  # written, so resident, not only reserved
        return mark(frames_done)

    body = _analyze_video_file(
        recognizer, media / "single_face.mp4", "c.mp4", WebOptions(), Cancel(60), take_memory_at_frame_5
    )
    assert taken, "the rule was never asked at frame 5"
    assert body["frames_analyzed"] == 10 and len(body["frames"]) == 10
    assert body["error"].startswith("c.mp4: stopped after 10 frames: server memory is over its mark (")
    assert f"--max-rss-mb {mark.max_rss_mb:g})" in body["error"]
    with pytest.raises(OverMemoryMarkError, match="videos are refused until it comes down"):
        _analyze_video_file(recognizer, media / "single_face.mp4", "d.mp4", WebOptions(), Cancel(60), mark)
    taken.clear()
    assert mark(10) is None and mark(0) is None  # under the mark again: clips start and run
    body = _analyze_video_file(recognizer, media / "single_face.mp4", "e.mp4", WebOptions(), Cancel(60), mark)
    assert body["error"] is None and body["frames_analyzed"] == body["frame_count"]


def test_the_memory_mark_is_read_every_n_frames_and_off_at_0() -> None:
    resident = resident_mb()
    if resident is None:
        pytest.skip("no /proc here: the mark is not enforced")
    tight = MemoryMark(max_rss_mb=1, every_frames=4)  # any real process is over 1 MB
    assert [tight(n) is None for n in (1, 2, 3, 5, 6, 7)] == [True] * 6
    assert str(tight(4)).startswith("stopped after 4 frames: server memory is over its mark (")
    assert str(tight(8)).startswith("stopped after 8 frames: ")
    with pytest.raises(OverMemoryMarkError, match="--max-rss-mb 1\\)"):
        tight(0)
    off = MemoryMark(max_rss_mb=0, every_frames=1)
    assert off(0) is None and off(1) is None and off.over() is None
    with pytest.raises(ValueError, match="every_frames must be at least 1"):
        MemoryMark(max_rss_mb=100, every_frames=0)
