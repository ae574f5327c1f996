"""The Camera tab's in-page pipeline in a real headless Chromium against a real `emolens serve` (-v: its access log
names every request): the routes it loads from, parity with `emolens analyze --json` on the shared photos, the
privacy claim (a fake camera runs for seconds and no frame reaches the server), and the one-line fallback where
WebAssembly or the camera is missing. As in test_web_browser.py, every test fails on any request to another host.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest

from emolens.api import RecognizerOptions
from emolens.preprocess import INPUT_SIZE_PX, MEAN, STD
from emolens.runtime.detectors import cnn
from emolens.runtime.detectors.cnn import CNN_CROP
from emolens.runtime.pipeline import PipelineOptions
from emolens.runtime.registry import model_path
from emolens.runtime.smoother import EmaSmoother
from emolens.runtime.tracker import IouTracker
from emolens.types import EMOTIONS, Box

webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium (dev extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_web_browser import CHROMEDRIVER, CHROMIUM, WAIT_S, chromium, only_loopback, requested_urls  # noqa: E402, F401

from support import run_emolens  # noqa: E402

PHOTOS = ("biden.jpg", "obama.jpg", "multi_face.jpg", "astronaut.png")
CAMERA_SIZE_PX = (640, 480)
#: A frame of 640x480 as the server path sends it is tens of KB; everything the page sends while the in-page
#: camera runs must stay under this.
SMALL_BODY_BYTES = 4096
RUN_S = 6.0


def write_camera_y4m(video: Path, out: Path, frames: int, size_px: tuple[int, int] = CAMERA_SIZE_PX) -> Path:
    """`frames` frames of `video`, cut to fill `size_px` (width, height), as a Y4M file for Chromium's fake camera.

    Args:
        video: a clip (a shared one).
        out: the .y4m file to write.
        frames: how many frames (Chromium loops them).
        size_px: the camera's frame size.

    Returns:
        `out`.
    """
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    width_px, height_px = size_px
    written = 0
    with out.open("wb") as sink:
        sink.write(f"YUV4MPEG2 W{width_px} H{height_px} F{round(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        while written < frames:
            ok, bgr = capture.read()
            if not ok:
                break
            scale = max(width_px / bgr.shape[1], height_px / bgr.shape[0])
            size = (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale))
            filled = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
            top, left = (filled.shape[0] - height_px) // 2, (filled.shape[1] - width_px) // 2
            frame = filled[top : top + height_px, left : left + width_px]
            sink.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
            written += 1
    capture.release()
    assert written == frames, f"{video} gave only {written} frames"
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_factory: Callable[..., Any]) -> Iterator[Any]:
    """A server of this module's own, with -v: uvicorn's access log lists every request it gets."""
    with server_factory(tmp_path_factory.mktemp("serve-camera"), global_args=["-v"]) as running:
        yield running


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory: pytest.TempPathFactory, media_file: Callable[[str], Path]) -> Path:
    return write_camera_y4m(media_file("WolfgangLanger_Pexels.mp4"), tmp_path_factory.mktemp("y4m") / "cam.y4m", 75)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, camera_clip: Path) -> Iterator[Any]:
    """Chromium with a fake 640x480 camera playing a shared clip, permission granted."""
    flags = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_clip}",
    )
    driver = chromium(tmp_path_factory.mktemp("chromium") / "profile", flags)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return !!window.emolensCamera && !!document.getElementById('emolens-local-start')")
    )


def run_js(driver: Any, body: str, *args: Any) -> Any:
    """`body` (an async function's body, `args` as `args`) in the page; its value, or a failure naming the error."""
    script = (
        "const done = arguments[arguments.length - 1]; const args = Array.from(arguments).slice(0, -1);"
        f"(async () => {{ {body} }})().then(v => done({{ok: v}}), e => done({{error: String(e && e.stack || e)}}));"
    )
    answer = driver.execute_async_script(script, *args)
    assert "error" not in answer, answer["error"]
    return answer["ok"]


def status_text(driver: Any) -> str:
    return str(driver.find_element(By.ID, "emolens-local-status").text)


def test_routes_serve_the_runtime_models_and_config_with_types_and_cache_headers(server: Any) -> None:
    import httpx

    expected = {
        "/emolens/static/vendor/ort-wasm-simd-threaded.wasm": "application/wasm",
        "/emolens/static/vendor/ort.wasm.min.mjs": "text/javascript",
        "/emolens/static/vendor/ort-wasm-simd-threaded.mjs": "text/javascript",
        "/emolens/static/camera_pipeline.mjs": "text/javascript",
        "/emolens/models/classifier.onnx": "application/octet-stream",
        "/emolens/models/face-detector.onnx": "application/octet-stream",
        "/emolens/camera-config.json": "application/json",
    }
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for path, content_type in expected.items():
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(content_type), (path, response.headers)
            assert response.headers["cache-control"] == "no-cache" and response.headers["etag"], path
            assert response.headers["cross-origin-embedder-policy"] == "require-corp", path
            again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304 and not again.content, path
        served = client.get("/emolens/models/classifier.onnx").content
        assert served == model_path(RecognizerOptions().model).read_bytes(), "the page must run the server's model"
        page = client.get("/")
        assert page.headers["cross-origin-opener-policy"] == "same-origin"
        assert client.get("/emolens/static/../options.py").status_code == 404
        assert client.get("/emolens/static/nothing.mjs").status_code == 404
        config = client.get("/emolens/camera-config.json").json()
    # Every constant the page uses is Python's, not a retyped number.
    defaults, pipeline = RecognizerOptions(), PipelineOptions()
    assert config["labels"] == list(EMOTIONS)
    assert config["classifier"]["input_size_px"] == INPUT_SIZE_PX
    assert (config["classifier"]["mean"], config["classifier"]["std"]) == (MEAN, STD)
    assert config["detection"]["min_score"] == defaults.min_score
    assert config["detection"]["min_face_px"] == defaults.min_face_px
    assert config["detection"]["max_side_px"] == defaults.detector_max_side_px
    assert config["crop"] == {
        "side_scale": CNN_CROP.side_scale,
        "shift_x": CNN_CROP.shift_x,
        "shift_y": CNN_CROP.shift_y,
        "margin": pipeline.crop_margin,
    }
    for key, value in (
        ("detect_every", pipeline.detect_every),
        ("iou_threshold", pipeline.iou_threshold),
        ("max_missed", pipeline.max_missed),
        ("min_hits", pipeline.min_hits),
    ):
        assert config["tracking"][key] == value, key
    assert config["smoothing"] == {"smooth": pipeline.smooth, "alpha": pipeline.smoothing_alpha}
    detector = cnn.CnnFaceDetector()
    assert config["detector"]["decoding"] == json.loads(json.dumps(dataclasses.asdict(detector._decoding)))


def _iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


@pytest.mark.parametrize("name", PHOTOS)
def test_page_pipeline_matches_emolens_analyze(
    server: Any, browser: Any, media_file: Callable[[str], Path], name: str
) -> None:
    path = media_file(name)
    cli = run_emolens("analyze", "--json", path)
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)["faces"]
    assert expected, f"emolens analyze found no face in {name}: the comparison would prove nothing"
    open_page(browser, server.url)
    encoded = base64.b64encode(path.read_bytes()).decode()
    found = run_js(browser, "return await window.emolensCamera.analyzeStill(args[0]);", encoded)
    assert len(found) == len(expected), f"{name}: page {len(found)} faces, emolens analyze {len(expected)}"
    for page_face, cli_face in zip(found, expected, strict=True):
        assert page_face["emotion"] == cli_face["emotion"], (name, page_face, cli_face)
        assert _iou(page_face["box"], cli_face["box"]) >= 0.9, (name, page_face["box"], cli_face["box"])
        worst = max(abs(page_face["probs"][e] - cli_face["probs"][e]) for e in EMOTIONS)
        assert worst <= 0.02, f"{name}: probabilities differ by up to {worst:.4f}: {page_face} vs {cli_face}"


def _access_lines(server: Any) -> list[str]:
    # uvicorn's own log format: `INFO:     127.0.0.1:PORT - "GET /path HTTP/1.1" 200 OK`
    return [line for line in server.log_path.read_text(errors="replace").splitlines() if ' HTTP/1.1" ' in line]


def test_camera_runs_in_the_page_and_sends_no_frame(server: Any, browser: Any) -> None:
    open_page(browser, server.url)
    requested_urls(browser)  # the page load's requests: not part of the check below
    before = len(_access_lines(server))
    assert before > 0, "the server's access log is empty: -v must log each request, else the check proves nothing"
    browser.find_element(By.ID, "emolens-local-start").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.execute_script("return window.emolensCamera.stats().frames") > 0)
    time.sleep(RUN_S)
    stats = run_js(browser, "return window.emolensCamera.stats();")
    assert "Computed on this device" in status_text(browser)
    assert stats["on_device"] and stats["frames"] >= 10 and (stats["width"], stats["height"]) == CAMERA_SIZE_PX
    assert stats["faces"] >= 1, f"the fake camera's clip shows a face, the page found none: {stats}"
    bodies = _request_bodies(browser, server.url)
    browser.find_element(By.ID, "emolens-local-start").click()  # stop
    during = _access_lines(server)[before:]
    frame_routes = [line for line in during if re.search(r"POST |/queue/join|/stream/|/upload", line)]
    assert not frame_routes, f"the server got requests while the page computed: {frame_routes[:5]}"
    large = [(url, size) for url, size in bodies if size > SMALL_BODY_BYTES]
    assert not large, f"the page sent bodies over {SMALL_BODY_BYTES} bytes: {large[:5]}"
    open_page(browser, server.url)  # a fresh network log for the no-other-host check after each test


def _request_bodies(driver: Any, server_url: str) -> list[tuple[str, int]]:
    """(url, body bytes) of every request the browser sent since the last look at its network log, each checked to
    go to the server itself; a body Chromium did not record is counted as large."""
    sizes = []
    host = urlparse(server_url).netloc
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            request = message["params"]["request"]
            size = len(request.get("postData", "")) if request.get("hasPostData") else 0
            if request.get("hasPostData") and "postData" not in request:
                size = SMALL_BODY_BYTES + 1
            url = request["url"]
            assert urlparse(url).scheme not in ("http", "https") or urlparse(url).netloc == host, url
            sizes.append((url, size))
        elif message["method"] == "Network.webSocketFrameSent":
            sizes.append(("websocket", len(message["params"]["response"].get("payloadData", ""))))
    return sizes


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        # A browser without WebAssembly (V8's jitless mode has none, as locked-down browsers run), with a camera.
        (("--js-flags=--jitless", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"),
         "WebAssembly"),
        # A browser with WebAssembly but no camera at all.
        ((), "no camera"),
    ],
)  # fmt: skip
def test_fallback_says_why_in_one_line_and_keeps_the_server_camera(
    server: Any, tmp_path: Path, flags: tuple[str, ...], reason: str
) -> None:
    driver = chromium(tmp_path / "profile", flags)
    try:
        open_page(driver, server.url)
        driver.find_element(By.ID, "emolens-local-start").click()
        WebDriverWait(driver, WAIT_S).until(lambda d: status_text(d).startswith("⚠"))
        line = status_text(driver)
        assert reason in line and "server" in line and "\n" not in line, line
        assert driver.find_elements(By.ID, "camera-input"), "the server camera must stay on the page"
        assert not driver.execute_script("return window.emolensCamera.stats().running")
    finally:
        driver.quit()


def _box_sequences(seed: int, frames: int) -> list[list[list[int]]]:
    """Boxes per frame of a few faces that drift, vanish for a while and come back, plus one-frame false boxes."""
    rng = np.random.default_rng(seed)
    faces = [[int(rng.integers(0, 500)), int(rng.integers(0, 300)), int(rng.integers(40, 120))] for _ in range(3)]
    sequence = []
    for _ in range(frames):
        boxes = []
        for face in faces:
            face[0] += int(rng.integers(-15, 16))
            face[1] += int(rng.integers(-10, 11))
            if rng.random() < 0.8:
                boxes.append([face[0], face[1], face[0] + face[2], face[1] + face[2]])
        if rng.random() < 0.2:
            x, y = int(rng.integers(0, 600)), int(rng.integers(0, 400))
            boxes.append([x, y, x + 50, y + 50])
        rng.shuffle(boxes)
        sequence.append(boxes)
    return sequence


def test_page_tracker_and_smoother_follow_the_python_rules(server: Any, browser: Any) -> None:
    """The page's Tracker and Smoother against runtime/tracker.py and runtime/smoother.py on the same streams."""
    options = PipelineOptions()
    open_page(browser, server.url)
    for seed in range(3):
        sequence = _box_sequences(seed, 120)
        detected = [i % options.detect_every == 0 for i in range(len(sequence))]
        rng = np.random.default_rng(100 + seed)
        probs = [rng.dirichlet(np.ones(len(EMOTIONS)), size=len(boxes)).tolist() for boxes in sequence]
        tracker = IouTracker(options.iou_threshold, options.max_missed, options.min_hits)
        smoother = EmaSmoother(options.smoothing_alpha)
        expected_ids, expected_probs = [], []
        for boxes, was_detected, rows in zip(sequence, detected, probs, strict=True):
            ids = tracker.update([Box(*b) for b in boxes], detected=was_detected)
            smoother.forget(tracker.dropped_ids)
            shown = [i for i, track_id in enumerate(ids) if track_id is not None]
            smoothed = smoother.update([ids[i] for i in shown], np.array([rows[i] for i in shown]).reshape(-1, 7))
            expected_ids.append(ids)
            expected_probs.append(smoothed.tolist())
        page = run_js(
            browser,
            """
            const P = await import("/emolens/static/camera_pipeline.mjs");
            const config = await P.loadConfig();
            const [sequence, detected, probs] = args;
            const tracker = new P.Tracker(config.tracking);
            const smoother = new P.Smoother(config.smoothing.alpha);
            const ids = [], smoothed = [];
            sequence.forEach((boxes, f) => {
              const frameIds = tracker.update(boxes, detected[f]);
              smoother.forget(tracker.droppedIds);
              const shown = frameIds.map((id, i) => i).filter((i) => frameIds[i] !== null);
              ids.push(frameIds);
              smoothed.push(smoother.update(shown.map((i) => frameIds[i]), shown.map((i) => probs[f][i])));
            });
            return [ids, smoothed];
            """,
            sequence,
            detected,
            probs,
        )
        assert page[0] == expected_ids, f"seed {seed}: the page's track ids differ from IouTracker's"
        assert any(i is not None for ids in expected_ids for i in ids), "no track was confirmed: nothing compared"
        for page_rows, rows in zip(page[1], expected_probs, strict=True):
            assert np.allclose(np.array(page_rows).reshape(-1, 7), np.array(rows).reshape(-1, 7), atol=1e-5)


def test_page_resize_matches_opencv(server: Any, browser: Any) -> None:
    """The page's INTER_AREA (shrinking) and INTER_LINEAR (enlarging) against cv2.resize on random images."""
    open_page(browser, server.url)
    rng = np.random.default_rng(0)
    for source_px, target_px, channels in (((230, 230), (48, 48), 1), ((640, 480), (320, 240), 3),
                                           ((970, 2204), (141, 320), 3), ((37, 37), (48, 48), 1)):  # fmt: skip
        (width_px, height_px), (out_w, out_h) = source_px, target_px
        image = rng.integers(0, 256, (height_px, width_px, channels), dtype=np.uint8)
        shrinking = out_w < width_px
        expected = cv2.resize(image, target_px, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        page = run_js(
            browser,
            """
            const P = await import("/emolens/static/camera_pipeline.mjs");
            const [b64, w, h, c, ow, oh, shrinking] = args;
            const src = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
            const out = shrinking ? P.resizeArea(src, w, h, c, ow, oh) : P.resizeLinear(src, w, h, ow, oh);
            return Array.from(out);
            """,
            base64.b64encode(image.tobytes()).decode(),
            width_px,
            height_px,
            channels,
            out_w,
            out_h,
            shrinking,
        )
        difference = np.abs(np.array(page, np.int16).reshape(expected.shape) - expected.astype(np.int16))
        assert difference.max() <= 1, f"{source_px} -> {target_px}: differs from OpenCV by up to {difference.max()}"
        equal = float((difference == 0).mean())
        assert equal >= 0.99, f"{source_px} -> {target_px}: only {equal:.3f} of the pixels equal"
