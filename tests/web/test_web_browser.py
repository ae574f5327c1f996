"""The web UI in a real headless Chromium (Debian's, driven by selenium): camera, photo and video tabs.

The camera is Chromium's fake device playing a Y4M clip made here from a real video, so the whole path
(getUserMedia -> Gradio stream -> server -> annotated frame back in the page) runs as a user's would.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cv2
import pytest

from emolens.labels import display_names
from emolens.types import EMOTIONS

webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium (dev extra)")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CAMERA_CLIP_FRAMES = 72  # 3 s at 24 fps; Chromium loops the file
WAIT_S = 120.0


def write_y4m(video: Path, out: Path, frames: int) -> Path:
    """The first `frames` frames of `video` as an uncompressed YUV4MPEG2 (4:2:0) file, Chromium's fake-camera input."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 24.0
    written = 0
    with out.open("wb") as sink:
        while written < frames:
            ok, bgr = capture.read()
            if not ok:
                break
            height_px, width_px = bgr.shape[:2]
            if written == 0:
                sink.write(f"YUV4MPEG2 W{width_px} H{height_px} F{round(fps)}:1 Ip A1:1 C420jpeg\n".encode())
            # OpenCV's I420 layout is the Y plane, then U, then V: exactly a Y4M 4:2:0 frame.
            sink.write(b"FRAME\n" + cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).tobytes())
            written += 1
    capture.release()
    assert written == frames, f"{video} gave only {written} frames"
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, media_file: Callable[[str], Path]) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-system-deps.sh)")
    tmp = tmp_path_factory.mktemp("chromium")
    clip = write_y4m(media_file("WolfgangLanger_Pexels.mp4"), tmp / "camera.y4m", CAMERA_CLIP_FRAMES)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--window-size=1400,1800",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    except WebDriverException as err:
        pytest.skip(f"chromium would not start: {str(err).splitlines()[0]}")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def open_tab(driver: Any, url: str, tab: str) -> None:
    driver.get(url)
    wait = WebDriverWait(driver, WAIT_S)
    button = wait.until(lambda d: _tab_button(d, tab))
    button.click()


def _tab_button(driver: Any, label: str) -> Any:
    for button in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']"):
        if button.text.strip() == label:
            return button
    return None


def text_of(driver: Any, elem_id: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} textarea, #{elem_id} input")
    if found:
        return str(found[0].get_attribute("value") or "")
    found = driver.find_elements(By.ID, elem_id)
    return found[0].text if found else ""


def assert_only_loopback(driver: Any, server_url: str) -> None:
    """Every resource the page loaded came from the server itself: no CDN, no fonts, no analytics."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    host = urlparse(server_url).netloc
    foreign = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != host]
    assert not foreign, f"the page fetched from elsewhere: {foreign[:5]}"


def test_camera_tab_labels_the_face_and_measures_round_trip(server: Any, browser: Any) -> None:
    open_tab(browser, server.url, "Camera")
    wait = WebDriverWait(browser, WAIT_S)
    camera = browser.find_element(By.ID, "camera-input")
    wait.until(lambda d: camera.find_elements(By.CSS_SELECTOR, "[title='grant webcam access'] button"))[0].click()
    wait.until(lambda d: camera.find_elements(By.CSS_SELECTOR, "button[aria-label='capture photo']"))[0].click()
    # The readout names the emotion of the face in the fake camera's clip.
    readout = wait.until(lambda d: (t := text_of(d, "camera-readout")) and t.split(" · ")[0] in EMOTIONS and t)
    assert "server" in readout and "ms" in readout
    round_trips_ms: list[float] = []
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        value = text_of(browser, "camera-round-trip")
        if value.endswith(" ms"):
            round_trips_ms.append(float(value.removesuffix(" ms")))
        time.sleep(0.25)
    assert len(round_trips_ms) >= 10 and all(0 < ms < 30_000 for ms in round_trips_ms)
    shown = browser.find_element(By.CSS_SELECTOR, "#camera-output img")
    assert shown.get_attribute("src") and shown.size["width"] > 100
    browser.save_screenshot(str(ARTIFACTS / "web-camera.png"))
    stats = {
        "samples": len(round_trips_ms),
        "round_trip_ms_median": statistics.median(round_trips_ms),
        "round_trip_ms_p90": sorted(round_trips_ms)[int(0.9 * (len(round_trips_ms) - 1))],
        "readout": text_of(browser, "camera-readout"),
    }
    (ARTIFACTS / "web-camera-round-trip.json").write_text(json.dumps(stats, indent=2))
    print(f"camera frame round trip: {stats}")
    assert_only_loopback(browser, server.url)


def test_photo_tab_shows_faces_in_every_language(server: Any, browser: Any, media_file: Callable[[str], Path]) -> None:
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    upload = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-input input[type='file']"))[0]
    upload.send_keys(str(media_file("multi_face.jpg")))
    summary = wait.until(lambda d: "face(s)" in (t := text_of(d, "photo-summary")) and t)
    assert any(name in summary for name in EMOTIONS)
    rows = browser.find_elements(By.CSS_SELECTOR, "#photo-table tbody tr")
    assert len(rows) >= 3
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-output img"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-json a[href*='.emolens.json']"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-bars canvas, #photo-bars svg"))
    browser.save_screenshot(str(ARTIFACTS / "web-photo.png"))
    vietnamese = browser.find_element(By.XPATH, "//*[@id='lang']//label[contains(., 'Tiếng Việt')]")
    vietnamese.click()
    names_vi = display_names("vi")
    summary_vi = wait.until(lambda d: any(n in (t := text_of(d, "photo-summary")) for n in names_vi) and t)
    assert "face(s)" in summary_vi
    browser.save_screenshot(str(ARTIFACTS / "web-photo-vi.png"))
    assert_only_loopback(browser, server.url)


def test_video_tab_plays_the_annotated_clip(server: Any, browser: Any, media_file: Callable[[str], Path]) -> None:
    open_tab(browser, server.url, "Video")
    wait = WebDriverWait(browser, WAIT_S)
    upload = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-input input[type='file']"))[0]
    upload.send_keys(str(media_file("single_face.mp4")))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-input video"))
    browser.find_element(By.ID, "video-run").click()
    summary = wait.until(lambda d: "frames" in (t := text_of(d, "video-summary")) and t)
    assert "tracked face" in summary
    video = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-output video"))[0]
    # The browser decoded the annotated clip: it knows its length and has frames to show.
    wait.until(lambda d: d.execute_script("return arguments[0].readyState >= 2 && arguments[0].duration > 0", video))
    assert browser.find_elements(By.CSS_SELECTOR, "#video-timelines img")
    links = browser.find_elements(By.CSS_SELECTOR, "#video-downloads a")
    assert {Path(urlparse(a.get_attribute("href")).path).suffix for a in links} >= {".csv", ".jsonl"}
    browser.save_screenshot(str(ARTIFACTS / "web-video.png"))
