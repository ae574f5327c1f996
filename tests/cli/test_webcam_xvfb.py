"""`emolens webcam` in a real window on a virtual X display (Xvfb), fed a real clip in place of a camera.

Needs Xvfb and xdotool (scripts/install-system-deps.sh installs them) and a window toolkit: tkinter, or an OpenCV
with highgui; the screenshot is taken with the x11grab device of the ffmpeg that imageio-ffmpeg bundles, and kept
in artifacts/ for a person to look at. Without tkinter, `emolens webcam` says so in one line (tested here too).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from support import REPO, emolens_command, panel_pixels, run_emolens, run_emolens_without, shared_path

SCREEN = (1024, 768)
ARTIFACTS = REPO / "artifacts"
#: The opencv-python-headless wheel this package depends on has no highgui: its window is then Tkinter's.
HAS_HIGHGUI = re.search(r"GUI:\s+NONE", cv2.getBuildInformation()) is None


def _no_window_toolkit() -> str | None:
    """Why `emolens webcam` can open no window with this Python, or None when it can."""
    if HAS_HIGHGUI:
        return None
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return (
            "this Python has no tkinter and OpenCV no highgui, so `emolens webcam` has no window here "
            "(Debian and Ubuntu: apt install python3-tk)"
        )
    return None


def _free_display() -> int:
    for number in range(91, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    pytest.skip("no free X display number")


@pytest.fixture
def xvfb() -> Iterator[str]:
    missing = _no_window_toolkit()
    if missing:
        pytest.skip(missing)
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("needs Xvfb and xdotool (run scripts/install-system-deps.sh)")
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"Xvfb :{number} did not start")
            time.sleep(0.1)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _xdotool(display: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, timeout=10, env={**os.environ, "DISPLAY": display}
    )


def _screenshot(display: str, out: Path) -> np.ndarray:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "x11grab",
         "-video_size", f"{SCREEN[0]}x{SCREEN[1]}", "-i", display, "-frames:v", "1", str(out)],
        check=True, timeout=30,
    )  # fmt: skip
    image = cv2.imread(str(out))
    assert image is not None, f"no screenshot at {out}"
    return image


def _run_webcam_window(display: str, screenshot: Path, *flags: str) -> np.ndarray:
    """Run `emolens webcam` on a clip in a window on `display`, take a screenshot once frames are through, quit
    with q (asserting a clean exit 0) and return the window's part of the screen."""
    clip = shared_path("media", "WolfgangLanger_Pexels.mp4")
    env = {**os.environ, "DISPLAY": display, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*emolens_command(), "webcam", "--camera", str(clip), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        window_id = ""
        deadline = time.monotonic() + 90
        while not window_id:
            assert proc.poll() is None, f"webcam exited early ({proc.returncode}): {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no emolens window appeared within 90 s"
            found = _xdotool(display, "search", "--name", "emolens webcam")
            window_id = found.stdout.split()[0] if found.returncode == 0 and found.stdout.strip() else ""
            time.sleep(0.3)
        time.sleep(3.0)  # let a few frames through the model and onto the screen
        ARTIFACTS.mkdir(exist_ok=True)
        screen = _screenshot(display, screenshot)
        geometry = _xdotool(display, "getwindowgeometry", "--shell", window_id).stdout
        values = dict(line.split("=", 1) for line in geometry.split() if "=" in line)
        x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        assert (w, h) == (640, 360), "the window is the size of the clip's frames"
        assert proc.poll() is None, "the window must stay until the user quits"
        _xdotool(display, "windowfocus", "--sync", window_id)
        _xdotool(display, "key", "--window", window_id, "q")
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        return screen[y : y + h, x : x + w]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _has_annotation(inside: np.ndarray) -> bool:
    # The face box is drawn in one of the emotion colours: a saturated colour the grey-brown clip lacks.
    saturation = cv2.cvtColor(inside, cv2.COLOR_BGR2HSV)[:, :, 1]
    return bool((saturation > 200).sum() > 200)


def test_webcam_window_shows_annotated_frames_and_quits_on_q(xvfb: str) -> None:
    inside = _run_webcam_window(xvfb, ARTIFACTS / "webcam_xvfb.png", "--lang", "vi")
    assert inside.mean() > 20 and inside.std() > 20, "the window shows a picture, not a black rectangle"
    assert _has_annotation(inside), "no annotation visible in the window"
    assert panel_pixels(inside) > 200, "the face's probability panel is drawn beside it"


def test_webcam_labels_only_draws_no_panel(xvfb: str) -> None:
    inside = _run_webcam_window(xvfb, ARTIFACTS / "webcam_xvfb_labels_only.png", "--labels-only")
    assert _has_annotation(inside), "no annotation visible in the window"
    assert panel_pixels(inside) < 20, "--labels-only must leave the probability panel off"


def test_missing_camera_is_one_line_and_exit_2() -> None:
    proc = run_emolens("webcam", "--camera", "7", timeout_s=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "emolens: error: camera 7 could not be opened (missing, busy or not permitted)"
    ]


@pytest.mark.skipif(HAS_HIGHGUI, reason="this OpenCV has highgui: the webcam window needs no tkinter")
def test_webcam_without_tkinter_says_so_in_one_line_even_without_a_display() -> None:
    clip = shared_path("media", "single_face.mp4")
    proc = run_emolens_without(["tkinter"], "webcam", "--camera", clip, env={"DISPLAY": None}, timeout_s=60)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("emolens: error: the webcam window needs tkinter, which this Python (")
    assert "sudo apt install python3-tk" in line


def test_webcam_without_a_display_says_so_in_one_line() -> None:
    missing = _no_window_toolkit()
    if missing or HAS_HIGHGUI:
        pytest.skip(missing or "this OpenCV has highgui, whose toolkit handles a missing display itself")
    clip = shared_path("media", "single_face.mp4")
    proc = run_emolens_without([], "webcam", "--camera", clip, env={"DISPLAY": None}, timeout_s=60)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("emolens: error: cannot open a window: ") and line.endswith("(is DISPLAY set?)")
