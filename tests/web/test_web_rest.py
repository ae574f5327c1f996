"""The REST API over real HTTP against a real `emolens serve`: good input, every kind of bad input, load."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emolens.types import EMOTIONS

httpx = pytest.importorskip("httpx", reason="the web tests need the 'web' extra")
pytest.importorskip("fastapi", reason="the web tests need the 'web' extra")
from emolens.web import api_examples  # noqa: E402

TIMEOUT_S = 120.0


def post_file(server: Any, path: str, name: str, data: bytes, field: str = "file") -> httpx.Response:
    return httpx.post(f"{server.url}{path}", files={field: (name, data)}, timeout=TIMEOUT_S)


def assert_error(response: httpx.Response, statuses: tuple[int, ...], server: Any) -> str:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str) and error and "\n" not in error and "Traceback" not in error
    # The server stays up after every bad request.
    assert server.process.poll() is None
    assert httpx.get(f"{server.url}/healthz", timeout=10).json()["status"] == "ok"
    return error


def assert_face(face: dict[str, object]) -> None:
    box = face["box"]
    assert isinstance(box, list) and len(box) == 4 and box[0] < box[2] and box[1] < box[3]
    probs = face["probs"]
    assert isinstance(probs, dict) and tuple(probs) == EMOTIONS
    assert math.isclose(sum(probs.values()), 1.0, abs_tol=0.01)
    assert face["emotion"] == max(probs, key=probs.__getitem__)


def test_healthz_and_docs(server: Any) -> None:
    health = httpx.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    # Which detector runs is part of the answer: the server was started with the default, auto.
    from emolens.runtime.detectors import resolve_detector

    assert health.json()["detector"] == resolve_detector("auto")
    assert health.json()["detector_description"].startswith(resolve_detector("auto") + " (")
    docs = httpx.get(f"{server.url}/docs", timeout=10)
    assert docs.status_code == 200 and "/api/v1/analyze-video" in docs.text
    # Offline: the docs page pulls nothing from a CDN.
    assert not re.search(r"(src|href)=[\"']https?://", docs.text)
    paths = httpx.get(f"{server.url}/openapi.json", timeout=10).json()["paths"]
    assert {"/api/v1/analyze", "/api/v1/analyze-video", "/healthz"} <= set(paths)


def test_ui_is_served_at_root(server: Any) -> None:
    page = httpx.get(f"{server.url}/", timeout=30)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    assert not re.search(r"<(script|link)[^>]*(src|href)=\"https?://", page.text)
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    assert config["title"] == "emolens"
    tabs = {c["props"].get("label") for c in config["components"] if c["type"] == "tabitem"}
    assert {"Camera", "Photo", "Video"} <= tabs
    # The page says which face detector runs, as /healthz does.
    intro = next(c["props"]["value"] for c in config["components"] if c["props"].get("elem_id") == "intro")
    health = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert f"Face detector: {health['detector_description']}" in intro


def test_photo_with_five_faces(server: Any, media_file: Callable[[str], Path]) -> None:
    response = post_file(server, "/api/v1/analyze", "multi_face.jpg", media_file("multi_face.jpg").read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    # `path` names the input, as in `emolens analyze --json`; `file` is its older, deprecated alias.
    assert body["path"] == body["file"] == "multi_face.jpg"
    assert set(body) == set(api_examples.ANALYZE)
    assert set(body["faces"][0]) == set(api_examples.ANALYZE["faces"][0])
    assert len(body["faces"]) >= 3
    for face in body["faces"]:
        assert_face(face)
    if httpx.get(f"{server.url}/healthz", timeout=10).json()["detector"] == "cnn":
        # The CNN finds all five (the sunglasses too) and fills `score` with its confidence.
        assert len(body["faces"]) == 5
        assert all(0.5 <= face["score"] <= 1.0 for face in body["faces"])


def test_video_frames_are_tracked(server: Any, media_file: Callable[[str], Path]) -> None:
    response = post_file(server, "/api/v1/analyze-video", "single_face.mp4", media_file("single_face.mp4").read_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["path"] == "single_face.mp4" and set(body) == set(api_examples.ANALYZE_VIDEO)
    assert set(body["frames"][0]) == set(api_examples.ANALYZE_VIDEO["frames"][0])
    assert body["frames_analyzed"] == len(body["frames"]) >= 60
    assert [frame["frame"] for frame in body["frames"]] == list(range(len(body["frames"])))
    with_faces = [frame for frame in body["frames"] if frame["faces"]]
    assert len(with_faces) >= len(body["frames"]) // 2
    assert body["track_ids"] and all("track_id" in face for frame in with_faces for face in frame["faces"])
    assert_face(with_faces[0]["faces"][0])


def test_oversized_upload_is_413(server: Any) -> None:
    data = b"\xff\xd8" + bytes((server.max_upload_mb + 1) * 1024 * 1024)
    error = assert_error(post_file(server, "/api/v1/analyze", "big.jpg", data), (413,), server)
    assert "limit" in error
    assert_error(post_file(server, "/api/v1/analyze-video", "big.mp4", data), (413,), server)


def test_oversized_upload_without_content_length_is_413(server: Any) -> None:
    boundary = "emolens-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunked_body() -> Iterator[bytes]:
        # A generator body makes httpx send it chunked, so only counting the bytes can stop it.
        yield head
        for _ in range(server.max_upload_mb + 1):
            yield bytes(1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(
        f"{server.url}/api/v1/analyze",
        content=chunked_body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        timeout=TIMEOUT_S,
    )
    assert "content-length" not in response.request.headers
    assert_error(response, (413,), server)


@pytest.mark.parametrize("route", ["/api/v1/analyze", "/api/v1/analyze-video"])
def test_text_file_is_refused(server: Any, route: str) -> None:
    error = assert_error(post_file(server, route, "notes.txt", b"just some text\n" * 50), (415, 422), server)
    assert "notes.txt" in error


def test_truncated_jpeg_is_refused(server: Any, media_file: Callable[[str], Path]) -> None:
    data = media_file("single_face.jpg").read_bytes()
    error = assert_error(post_file(server, "/api/v1/analyze", "cut.jpg", data[: len(data) // 3]), (415, 422), server)
    assert "cut.jpg" in error


def test_truncated_video_is_refused_or_flagged(server: Any, media_file: Callable[[str], Path]) -> None:
    data = media_file("single_face.mp4").read_bytes()
    response = post_file(server, "/api/v1/analyze-video", "cut.mp4", data[: len(data) // 3])
    if response.status_code == 200:
        # A clip cut mid-stream may still yield its first frames; then the answer must say it stopped early.
        body = response.json()
        assert body["frames_analyzed"] < 72 and body["error"] and "cut.mp4" in body["error"]
    else:
        assert "cut.mp4" in assert_error(response, (415, 422), server)


@pytest.mark.parametrize("route", ["/api/v1/analyze", "/api/v1/analyze-video"])
def test_empty_file_is_422(server: Any, route: str) -> None:
    assert "empty" in assert_error(post_file(server, route, "empty.jpg", b""), (422,), server)


@pytest.mark.parametrize("route", ["/api/v1/analyze", "/api/v1/analyze-video"])
def test_missing_field_is_422(server: Any, media_file: Callable[[str], Path], route: str) -> None:
    data = media_file("single_face.jpg").read_bytes()
    error = assert_error(post_file(server, route, "single_face.jpg", data, field="image"), (422,), server)
    assert "file" in error
    assert_error(httpx.post(f"{server.url}{route}", timeout=TIMEOUT_S), (422,), server)


def test_parallel_requests_all_succeed(server: Any, media_file: Callable[[str], Path]) -> None:
    data = media_file("single_face.jpg").read_bytes()
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: post_file(server, "/api/v1/analyze", "single_face.jpg", data), range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    # One model shared by all threads: the same image gives the same answer whatever runs beside it.
    assert len({r.text for r in responses}) == 1
    assert len(responses[0].json()["faces"]) >= 1


def test_docs_show_example_answers(server: Any) -> None:
    page = httpx.get(f"{server.url}/docs", timeout=30).text
    assert page.count("Example:") >= 2 and "&quot;path&quot;: &quot;team.jpg&quot;" in page
    schema = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    ok = schema["paths"]["/api/v1/analyze"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ok["example"] == api_examples.ANALYZE


# ---------------------------------------------------------------- issue 31: the server's answers a newcomer meets


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/openapi.json"])
def test_head_is_get_without_the_body(server: Any, path: str) -> None:
    got = httpx.get(f"{server.url}{path}", timeout=30)
    head = httpx.head(f"{server.url}{path}", timeout=30)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if path != "/healthz":  # /healthz's body holds nothing that changes between two calls either
        return
    assert int(head.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("POST", "/api/v1/nope"), ("GET", "/api/v2/analyze"), ("DELETE", "/gradio_api/nope")],
)
def test_unknown_routes_are_404_in_the_error_shape(server: Any, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.url}{path}", timeout=30)
    error = assert_error(response, (404,), server)
    assert set(response.json()) == {"error"}, response.text  # not FastAPI's {"detail": "Not Found"}
    assert path in error and "/docs" in error
    head = httpx.head(f"{server.url}{path}", timeout=30)
    assert head.status_code == 404 and head.content == b""


@pytest.mark.parametrize(("method", "path"), [("PUT", "/config"), ("DELETE", "/gradio_api/upload")])
def test_wrong_method_on_the_ui_routes_is_405_in_the_error_shape(server: Any, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.url}{path}", timeout=30)
    error = assert_error(response, (405,), server)
    assert set(response.json()) == {"error"} and method in error
    assert response.headers["allow"] and response.headers["allow"] in error


def test_gradio_route_errors_keep_the_detail_its_page_reads_and_gain_an_error(server: Any) -> None:
    missing = httpx.get(f"{server.url}/gradio_api/upload_progress", timeout=30)  # FastAPI's validation: 422
    assert "upload_id" in assert_error(missing, (422,), server)
    assert isinstance(missing.json()["detail"], list)
    raised = httpx.get(f"{server.url}/manifest.json", timeout=30)  # Gradio's own 404 (no PWA)
    assert assert_error(raised, (404,), server) == raised.json()["detail"] == "PWA not enabled."


def test_a_video_sent_to_the_photo_route_is_told_the_video_route(
    server: Any, media_file: Callable[[str], Path]
) -> None:
    response = post_file(server, "/api/v1/analyze", "clip.mp4", media_file("single_face.mp4").read_bytes())
    error = assert_error(response, (415,), server)
    assert error == "clip.mp4: not an image; this is a video: use the video route, POST /api/v1/analyze-video"
    # The content decides, not the name: a clip named .jpg gets the same hint.
    renamed = post_file(server, "/api/v1/analyze", "clip.jpg", media_file("face_noface.mov").read_bytes())
    assert "use the video route, POST /api/v1/analyze-video" in assert_error(renamed, (415,), server)


def test_a_photo_sent_to_the_video_route_is_told_the_photo_route(
    server: Any, media_file: Callable[[str], Path]
) -> None:
    response = post_file(server, "/api/v1/analyze-video", "face.jpg", media_file("single_face.jpg").read_bytes())
    error = assert_error(response, (415,), server)
    assert error.startswith("face.jpg: not a video file")
    assert error.endswith("; this is a photo: use the photo route, POST /api/v1/analyze")
    png = post_file(server, "/api/v1/analyze-video", "a.png", media_file("astronaut.png").read_bytes())
    assert "use the photo route" in assert_error(png, (415,), server)


def test_upload_progress_without_an_id_is_answered_done_at_once(server: Any) -> None:
    # What Gradio's upload component asks on every upload (its bug: the id it sends is the string "undefined").
    response = httpx.get(f"{server.url}/gradio_api/upload_progress?upload_id=undefined", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == 'data: {"msg": "done"}\n\n'
