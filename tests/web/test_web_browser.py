"""The web UI in a real headless Chromium (Debian's, driven by selenium): camera, photo and video tabs.

The camera is Chromium's fake device playing a Y4M clip made here from a real video, so the whole path
(getUserMedia -> Gradio stream -> server -> annotated frame back in the page) runs as a user's would.
Every test fails on any request the page makes to a host other than the server (Chromium's network log).
Screenshots land in artifacts/; with EMOLENS_DOCS_SCREENSHOTS=1 the ones the README shows are also
written to docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
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
DOCS_SHOTS = REPO / "docs" / "screenshots"
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


def chromium(profile: Path, extra_flags: tuple[str, ...] = ()) -> Any:
    """Debian's headless Chromium with the network log on, or a skip saying why there is none."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install-system-deps.sh)")
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
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
        *extra_flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    except WebDriverException as err:
        pytest.skip(f"chromium would not start: {str(err).splitlines()[0]}")
    driver.set_script_timeout(WAIT_S)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, media_file: Callable[[str], Path]) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("chromium")
    clip = write_y4m(media_file("WolfgangLanger_Pexels.mp4"), tmp / "camera.y4m", CAMERA_CLIP_FRAMES)
    # The network log it keeps serves the no-outside-request check.
    driver = chromium(
        tmp / "profile",
        (
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ),
    )
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


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call, from Chromium's DevTools network events
    (fetches, scripts, workers, WebSockets), read from its performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def assert_only_loopback(driver: Any, server_url: str) -> None:
    """Every request the page made went to the server itself: no CDN, no fonts, no analytics."""
    host = urlparse(server_url).netloc
    urls = requested_urls(driver)
    foreign = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != host]
    assert not foreign, f"the page requested from elsewhere: {foreign[:5]}"
    assert urls, "the network log is empty: the check would prove nothing"


@pytest.fixture(autouse=True)
def only_loopback(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each browser test: the page asked no host but the server for anything."""
    yield
    if "browser" in request.fixturenames and "server" in request.fixturenames:
        assert_only_loopback(request.getfixturevalue("browser"), request.getfixturevalue("server").url)


def screenshot(driver: Any, name: str, *, docs: bool = False) -> Path:
    """The page as a person sees it, in artifacts/NAME.png (and docs/screenshots/ when asked for)."""
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    if docs and os.environ.get("EMOLENS_DOCS_SCREENSHOTS") == "1":
        # For the README: the blank page end cut off, at most 1100 px wide, as JPEG (a tenth of the PNG).
        image = cv2.imread(str(path))
        inked = (image.min(axis=2) < 250).any(axis=1).nonzero()[0]
        image = image[: int(inked[-1]) + 16] if len(inked) else image
        if image.shape[1] > 1100:
            image = cv2.resize(
                image, (1100, round(image.shape[0] * 1100 / image.shape[1])), interpolation=cv2.INTER_AREA
            )
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(DOCS_SHOTS / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return path


def page_text(driver: Any) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def upload(driver: Any, elem_id: str, path: Path) -> None:
    wait = WebDriverWait(driver, WAIT_S)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#{elem_id} input[type='file']"))[0].send_keys(str(path))


def log_count(server: Any, pattern: str) -> int:
    return len(re.findall(pattern, server.log_path.read_text(errors="replace")))


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
    # The frame rate shown is frames counted over the seconds they took: at most the 10 frames/s the page sends.
    rate = re.search(r"([0-9.]+) frames/s", text_of(browser, "camera-readout"))
    assert rate and 0 < float(rate.group(1)) <= 12.0
    screenshot(browser, "web-camera", docs=True)
    stats = {
        "samples": len(round_trips_ms),
        "round_trip_ms_median": statistics.median(round_trips_ms),
        "round_trip_ms_p90": sorted(round_trips_ms)[int(0.9 * (len(round_trips_ms) - 1))],
        "readout": text_of(browser, "camera-readout"),
    }
    (ARTIFACTS / "web-camera-round-trip.json").write_text(json.dumps(stats, indent=2))
    print(f"camera frame round trip: {stats}")


def test_photo_tab_analyses_each_upload_once_and_numbers_the_faces(
    server: Any, browser: Any, media_file: Callable[[str], Path]
) -> None:
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    before = log_count(server, r"photo multi_face\.jpg: ")
    upload(browser, "photo-input", media_file("multi_face.jpg"))
    summary = wait.until(lambda d: "face(s)" in (t := text_of(d, "photo-summary")) and t)
    assert any(name in summary for name in EMOTIONS)
    faces = int(summary.split(" face(s)")[0])
    assert faces >= 4
    # The table numbers the faces 1..n, as the picture and the chart do.
    cells = [
        r.find_elements(By.CSS_SELECTOR, "td") for r in browser.find_elements(By.CSS_SELECTOR, "#photo-table tbody tr")
    ]
    numbers = [c[0].text.strip() for c in cells if c and c[0].text.strip()]  # the table keeps a blank spacer row
    assert numbers == [str(i) for i in range(1, faces + 1)]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-output img"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-json a[href*='.emolens.json']"))
    chart = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-bars img"))[0]
    assert chart.size["width"] > 400
    time.sleep(2.0)  # a second analysis would have been logged by now
    assert log_count(server, r"photo multi_face\.jpg: ") - before == 1, "one upload must be analysed once"
    screenshot(browser, "web-photo", docs=True)
    # Labels only: one more analysis, a different picture.
    shown_src = browser.find_element(By.CSS_SELECTOR, "#photo-output img").get_attribute("src")
    browser.find_element(By.CSS_SELECTOR, "#photo-labels-only input").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#photo-output img").get_attribute("src") != shown_src)
    screenshot(browser, "web-photo-labels-only")
    assert log_count(server, r"photo multi_face\.jpg: ") - before == 2


def test_the_whole_page_follows_the_language(server: Any, browser: Any, media_file: Callable[[str], Path]) -> None:
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    upload(browser, "photo-input", media_file("multi_face.jpg"))
    wait.until(lambda d: "face(s)" in text_of(d, "photo-summary"))
    browser.find_element(By.XPATH, "//*[@id='lang']//label[contains(., 'Tiếng Việt')]").click()
    names_vi = display_names("vi")
    summary_vi = wait.until(lambda d: any(n in (t := text_of(d, "photo-summary")) for n in names_vi) and t)
    assert "khuôn mặt" in summary_vi and "face(s)" not in summary_vi
    wait.until(lambda d: _tab_button(d, "Ảnh") is not None)
    body = page_text(browser)
    for vietnamese in ("Ngôn ngữ", "Chỉ nhãn", "Xác suất của từng khuôn mặt", "không ảnh, video hay kết quả"):
        assert vietnamese in body, f"{vietnamese!r} missing from the Vietnamese page"
    headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#photo-table thead th")]
    assert any("cảm xúc" in h for h in headers)
    screenshot(browser, "web-photo-vi", docs=True)
    browser.find_element(By.XPATH, "//*[@id='lang']//label[contains(., 'Bahasa Indonesia')]").click()
    wait.until(lambda d: "wajah" in text_of(d, "photo-summary"))
    _tab_button(browser, "Video").click()
    wait.until(lambda d: "Analisis" in page_text(d) and "Berhenti" in page_text(d))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.jpg", b"these are notes, not a picture\n", "notes.jpg: not a readable image"),
        ("cut.jpg", None, "cut.jpg: truncated JPEG"),
    ],
)
def test_photo_errors_are_emolens_messages_shown_once(
    server: Any,
    browser: Any,
    media_file: Callable[[str], Path],
    tmp_path: Path,
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content if content is not None else media_file("single_face.jpg").read_bytes()[:30_000])
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    upload(browser, "photo-input", bad)
    shown = wait.until(lambda d: message in (t := text_of(d, "photo-summary")) and t)
    assert shown.startswith("⚠") and len(shown.splitlines()) == 1
    time.sleep(6.0)  # longer than a toast stays up: the message must still be there
    body = page_text(browser)
    assert body.count(message) == 1, "the message appears once"
    assert "/tmp" not in body and "Traceback" not in body and "Pillow" not in body and "PIL" not in body
    assert not browser.find_elements(By.CSS_SELECTOR, ".toast-body")
    screenshot(browser, f"web-photo-error-{bad.stem}")


def test_photo_example_runs_on_click(server: Any, browser: Any) -> None:
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-examples button, #photo-examples tr"))[0].click()
    summary = wait.until(lambda d: "face(s)" in (t := text_of(d, "photo-summary")) and t)
    assert summary.startswith("1 face(s)")
    assert "Everything runs on this computer" in page_text(browser)


def test_video_tab_plays_the_clip_with_a_full_width_timeline(
    server: Any, browser: Any, media_file: Callable[[str], Path]
) -> None:
    open_tab(browser, server.url, "Video")
    wait = WebDriverWait(browser, WAIT_S)
    upload(browser, "video-input", media_file("single_face.mp4"))
    wait.until(lambda d: "single_face" in d.find_element(By.ID, "video-input").text)
    browser.find_element(By.ID, "video-run").click()
    summary = wait.until(lambda d: "frames" in (t := text_of(d, "video-summary")) and t)
    assert "tracked face" in summary
    video = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-output video"))[0]
    # The browser decoded the annotated clip: it knows its length and has frames to show.
    wait.until(lambda d: d.execute_script("return arguments[0].readyState >= 2 && arguments[0].duration > 0", video))
    # The timeline spans the page's width at its own aspect, readable without a click.
    timeline = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-timelines img"))[0]
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", timeline))
    page_w = browser.find_element(By.ID, "video-summary").size["width"]
    assert timeline.size["width"] >= 0.9 * page_w and timeline.size["width"] >= 800
    natural = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", timeline)
    assert timeline.size["height"] >= 0.9 * timeline.size["width"] * natural[1] / natural[0]
    # One row per tracked face: frames seen and the share of each emotion, adding up to 100%.
    rows = [r for r in browser.find_elements(By.CSS_SELECTOR, "#video-tracks tbody tr") if r.text.strip()]
    assert rows
    cells = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, "td")]
    assert len(cells) == 2 + len(EMOTIONS) and abs(sum(float(c) for c in cells[2:]) - 100.0) < 1.0
    links = browser.find_elements(By.CSS_SELECTOR, "#video-downloads a")
    assert {Path(urlparse(a.get_attribute("href")).path).suffix for a in links} >= {".csv", ".jsonl"}
    screenshot(browser, "web-video", docs=True)


def test_video_example_is_a_clip_the_project_made(server: Any, browser: Any) -> None:
    open_tab(browser, server.url, "Video")
    wait = WebDriverWait(browser, WAIT_S)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-examples button, #video-examples tr"))[0].click()
    wait.until(lambda d: "zoom" in d.find_element(By.ID, "video-input").text)
    browser.find_element(By.ID, "video-run").click()
    summary = wait.until(lambda d: "frames" in (t := text_of(d, "video-summary")) and t)
    assert summary.startswith("48 frames") and "1 tracked face(s)" in summary


def test_stop_ends_a_long_video(server: Any, browser: Any, media_file: Callable[[str], Path]) -> None:
    open_tab(browser, server.url, "Video")
    wait = WebDriverWait(browser, WAIT_S)
    before = log_count(server, r"WolfgangLanger_Pexels\.mp4: stopped at frame")
    upload(browser, "video-input", media_file("WolfgangLanger_Pexels.mp4"))
    wait.until(lambda d: "WolfgangLanger_Pexels" in d.find_element(By.ID, "video-input").text)
    browser.find_element(By.ID, "video-run").click()
    time.sleep(1.5)
    browser.find_element(By.ID, "video-stop").click()
    wait.until(lambda d: text_of(d, "video-summary").startswith("Stopped"))
    # The work itself ended part-way, not just the page's wait for it.
    deadline = time.monotonic() + 30.0
    while log_count(server, r"WolfgangLanger_Pexels\.mp4: stopped at frame") == before:
        assert time.monotonic() < deadline, "the analysis did not stop"
        time.sleep(0.5)
    assert not browser.find_elements(By.CSS_SELECTOR, "#video-output video")


def test_page_fits_a_phone_screen(server: Any, browser: Any) -> None:
    size = browser.get_window_size()
    browser.set_window_size(390, 1400)
    try:
        for tab in ("Camera", "Photo", "Video"):
            open_tab(browser, server.url, tab)
            time.sleep(0.5)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the {tab} tab scrolls sideways by {overflow} px on a phone"
            # Input and output stack: each takes (nearly) the whole width.
            prefix = tab.lower()
            for elem_id in (f"{prefix}-input", f"{prefix}-output"):
                width = browser.find_element(By.ID, elem_id).size["width"]
                assert width >= 300, f"#{elem_id} is squeezed to {width} px"
        screenshot(browser, "web-phone", docs=True)
    finally:
        browser.set_window_size(size["width"], size["height"])


# ---------------------------------------------------------------- issue 31: what a newcomer met in the page


def headers_of(driver: Any, elem_id: str) -> list[str]:
    """The column titles a table shows (Gradio keeps hidden copies of the header row; those are blank)."""
    # Read in one script: the table re-renders as it changes, and elements found a moment before go stale.
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), (h) => h.innerText.trim())", f"#{elem_id} thead th"
    )
    return [t for t in texts if t]


def rows_of(driver: Any, elem_id: str) -> list[str]:
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), (r) => r.innerText.trim())", f"#{elem_id} tbody tr"
    )
    return [t for t in texts if t]


def rect(driver: Any, selector: str) -> dict[str, float]:
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e && e.getBoundingClientRect().toJSON();", selector
    )
    assert found, f"nothing on the page matches {selector}"
    return dict(found)


def loaded(driver: Any, image: Any) -> bool:
    return bool(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image))


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize(
    ("tab", "elem_id", "name", "message"),
    [
        ("Photo", "photo", "single_face.mp4", "⚠ single_face.mp4 is a video: use the Video tab."),
        ("Video", "video", "single_face.jpg", "⚠ single_face.jpg is a photo: use the Photo tab."),
    ],
)
def test_a_file_of_the_wrong_kind_gets_a_lasting_message_in_its_tab(
    server: Any, browser: Any, media_file: Callable[[str], Path], tab: str, elem_id: str, name: str, message: str
) -> None:
    open_tab(browser, server.url, tab)
    wait = WebDriverWait(browser, WAIT_S)
    upload(browser, f"{elem_id}-input", media_file(name))
    wait.until(lambda d: text_of(d, f"{elem_id}-summary") == message)
    time.sleep(6.0)  # longer than a toast stays up: the message must still be there, once
    assert text_of(browser, f"{elem_id}-summary") == message
    assert page_text(browser).count(message) == 1
    assert not browser.find_elements(By.CSS_SELECTOR, ".toast-body"), "Gradio's vanishing toast"
    given = browser.find_element(By.ID, f"{elem_id}-input").text
    assert "Error" not in given and Path(name).stem not in given, "the input shows an error or kept the file"
    screenshot(browser, f"web-{elem_id}-wrong-file")
    # The right kind of file is taken as before and replaces the message.
    right = "multi_face.jpg" if elem_id == "photo" else "single_face.mp4"
    upload(browser, f"{elem_id}-input", media_file(right))
    if elem_id == "photo":
        wait.until(lambda d: "face(s)" in text_of(d, "photo-summary"))
    else:
        wait.until(lambda d: "single_face" in d.find_element(By.ID, "video-input").text)
        wait.until(lambda d: text_of(d, "video-summary") == "")


def test_tables_keep_their_column_names_when_emptied_and_follow_the_language(
    server: Any, browser: Any, media_file: Callable[[str], Path], tmp_path: Path
) -> None:
    open_tab(browser, server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"these are notes, not a picture\n")
    upload(browser, "photo-input", bad)
    wait.until(lambda d: "notes.jpg" in text_of(d, "photo-summary"))
    assert headers_of(browser, "photo-table")[:3] == ["face", "emotion", "confidence"]
    # A video stopped, or refused, empties the tracks table: its columns keep their names, not "1 | 2 | 3".
    _tab_button(browser, "Video").click()
    upload(browser, "video-input", media_file("single_face.mp4"))
    wait.until(lambda d: "single_face" in d.find_element(By.ID, "video-input").text)
    browser.find_element(By.ID, "video-run").click()
    wait.until(lambda d: "tracked face" in text_of(d, "video-summary"))
    rows = rows_of(browser, "video-tracks")
    assert rows
    assert headers_of(browser, "video-tracks")[:3] == ["face", "frames", "angry %"]
    browser.find_element(By.XPATH, "//*[@id='lang']//label[contains(., 'Tiếng Việt')]").click()
    wait.until(lambda d: headers_of(d, "video-tracks")[:2] == ["khuôn mặt", "khung hình"])
    assert rows_of(browser, "video-tracks") == rows
    browser.find_element(By.XPATH, "//*[@id='lang']//label[contains(., 'English')]").click()
    wait.until(lambda d: headers_of(d, "video-tracks")[:2] == ["face", "frames"])
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all\n" * 64)
    browser.find_element(By.CSS_SELECTOR, "#video-input button[aria-label='Clear']").click()
    upload(browser, "video-input", broken)
    wait.until(lambda d: "broken" in d.find_element(By.ID, "video-input").text)
    browser.find_element(By.ID, "video-run").click()
    wait.until(lambda d: text_of(d, "video-summary").startswith("⚠ broken.mp4"))
    headers = headers_of(browser, "video-tracks")
    assert headers[:2] == ["face", "frames"] and "1" not in headers, headers


def test_on_a_phone_labels_stay_off_the_pictures_and_charts_read(
    server: Any, browser: Any, media_file: Callable[[str], Path]
) -> None:
    size = browser.get_window_size()
    browser.set_window_size(390, 1400)
    wait = WebDriverWait(browser, WAIT_S)
    try:
        assert browser.execute_script("return window.innerWidth") == 390
        open_tab(browser, server.url, "Photo")
        upload(browser, "photo-input", media_file("multi_face.jpg"))
        wait.until(lambda d: "face(s)" in text_of(d, "photo-summary"))
        picture = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo-output img"))[0]
        wait.until(lambda d: loaded(d, picture))
        # The "Emotions" label and the buttons sit above the picture, where no face label can be.
        shown = rect(browser, "#photo-output img")
        for part in ("#photo-output > label", "#photo-output .icon-button-wrapper"):
            assert not overlaps(rect(browser, part), shown), f"{part} covers the picture"
        # The charts: one face per row, drawn at about the width they are shown at.
        assert not browser.find_element(By.ID, "photo-bars").is_displayed()
        chart = browser.find_element(By.CSS_SELECTOR, "#photo-bars-narrow img")
        wait.until(lambda d: loaded(d, chart))
        natural_w = browser.execute_script("return arguments[0].naturalWidth", chart)
        assert chart.size["width"] >= 0.7 * natural_w, "the charts are shrunk past reading"
        assert not overlaps(rect(browser, "#photo-bars-narrow > label"), rect(browser, "#photo-bars-narrow img"))
        screenshot(browser, "web-phone-photo")
        # The timelines keep a legible width and scroll sideways, from their left edge.
        _tab_button(browser, "Video").click()
        upload(browser, "video-input", media_file("single_face.mp4"))
        wait.until(lambda d: "single_face" in d.find_element(By.ID, "video-input").text)
        browser.find_element(By.ID, "video-run").click()
        timeline = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#video-timelines img"))[0]
        wait.until(lambda d: loaded(d, timeline))
        frame = rect(browser, "#video-timelines .image-frame")
        assert timeline.size["width"] >= 640 and rect(browser, "#video-timelines img")["left"] >= frame["left"]
        assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 1
        assert not overlaps(rect(browser, "#video-output > label"), rect(browser, "#video-output video"))
        screenshot(browser, "web-phone-video")
        # The camera's picture: its label is above it too, not over the face number in its top-left corner.
        open_tab(browser, server.url, "Camera")
        camera = browser.find_element(By.ID, "camera-input")
        wait.until(lambda d: camera.find_elements(By.CSS_SELECTOR, "[title='grant webcam access'] button"))[0].click()
        wait.until(lambda d: camera.find_elements(By.CSS_SELECTOR, "button[aria-label='capture photo']"))[0].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#camera-output img"))
        wait.until(lambda d: text_of(d, "camera-readout"))
        shown = rect(browser, "#camera-output img")
        for part in ("#camera-output > label", "#camera-output .icon-button-wrapper"):
            assert not overlaps(rect(browser, part), shown), f"{part} covers the camera picture"
        screenshot(browser, "web-phone-camera")
    finally:
        browser.set_window_size(size["width"], size["height"])


@pytest.fixture(scope="module")
def verbose_server(tmp_path_factory: pytest.TempPathFactory, server_factory: Any) -> Iterator[Any]:
    """A server of its own whose log holds the HTTP access log (emolens -v serve)."""
    with server_factory(tmp_path_factory.mktemp("verbose"), global_args=["-v"]) as running:
        yield running


def test_uploads_log_no_404_for_their_progress(
    verbose_server: Any, browser: Any, media_file: Callable[[str], Path]
) -> None:
    open_tab(browser, verbose_server.url, "Photo")
    wait = WebDriverWait(browser, WAIT_S)
    upload(browser, "photo-input", media_file("single_face.jpg"))
    wait.until(lambda d: "face(s)" in text_of(d, "photo-summary"))
    _tab_button(browser, "Video").click()
    upload(browser, "video-input", media_file("single_face.mp4"))
    wait.until(lambda d: "single_face" in d.find_element(By.ID, "video-input").text)
    time.sleep(1.0)  # the access log is written as each answer leaves
    log = verbose_server.log_path.read_text(errors="replace")
    assert len(re.findall(r'"POST /gradio_api/upload\?upload_id=\w+ HTTP/1\.1" 200', log)) == 2, log[-3000:]
    # Gradio's page asks for the progress of upload "undefined" (its bug); it is answered, not left to 404.
    progress = re.findall(r'"GET /gradio_api/upload_progress\?upload_id=(\S*) HTTP/1\.1" (\d+)', log)
    assert progress and all(status == "200" for _, status in progress), progress
    assert not re.search(r'" 404 ', log.replace('"GET /manifest.json HTTP/1.1" 404 ', "")), "a 404 in the log"
