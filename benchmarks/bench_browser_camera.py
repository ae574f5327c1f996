"""The Camera tab's in-page pipeline at camera speed: headless Chromium with a fake 640x480 camera (a shared clip),
read from the page's own counter (window.emolensCamera.stats(), over its last 60 frames), with onnxruntime-web's
WASM on 1 thread and on 2 (the page is cross-origin isolated, so threads are available).

    PYTHONPATH=src python benchmarks/bench_browser_camera.py [--seconds 20] [--runs 3] [--threads 1 2]
                                                             [--models fast /tmp/fast-float32.onnx]

`--models` compares classifier files: one `emolens serve --model M` per model (the page runs the server's model),
e.g. the shipped int8 `fast` against the float32 copy research/build_browser_classifier.py writes. For each run,
model and thread count, interleaved so that all meet the same load: a fresh page (?threads=N), the camera started,
a warm-up, then one sample of the counter a second; the table gives medians over all samples of all runs. The fake
camera plays the clip at its own rate (24 frames/s for the shared clip), which caps frames/s; `--camera-fps 30`
plays the same frames faster, to see whether the page could keep up with a faster camera.

`grab` is copying the video frame into the canvas pixels; `detect` is per frame (the detector runs on every
detect_every-th frame: `detect/run` is one run); `classify` covers the crop, preprocessing and the classifier for
every face; `draw` the overlay.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import start_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "WolfgangLanger_Pexels.mp4"
FIELDS = ("fps", "grab_ms", "detect_ms", "detect_run_ms", "classify_ms", "draw_ms")


def write_y4m(
    video: Path, out: Path, frames: int, size_px: tuple[int, int] = (640, 480), fps: float | None = None
) -> Path:
    """`frames` frames of `video`, cut to fill `size_px`, as Y4M for Chromium's fake camera (it loops them) at
    `fps` frames a second (None: the video's own rate)."""
    capture = cv2.VideoCapture(str(video))
    fps = fps or capture.get(cv2.CAP_PROP_FPS) or 25.0
    width_px, height_px = size_px
    with out.open("wb") as sink:
        sink.write(f"YUV4MPEG2 W{width_px} H{height_px} F{round(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            ok, bgr = capture.read()
            if not ok:
                break
            scale = max(width_px / bgr.shape[1], height_px / bgr.shape[0])
            filled = cv2.resize(
                bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)), interpolation=cv2.INTER_AREA
            )
            top, left = (filled.shape[0] - height_px) // 2, (filled.shape[1] - width_px) // 2
            frame = filled[top : top + height_px, left : left + width_px]
            sink.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    capture.release()
    return out


def browser(clip: Path, profile: Path):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)


def run_once(driver, url: str, threads: int, warmup_s: float, seconds: float) -> list[dict[str, float]]:
    """One page load with `threads`: start the camera, wait `warmup_s`, sample the counter once a second."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/?threads={threads}")
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script("return !!window.emolensCamera && !!document.getElementById('emolens-local-start')")
    )
    driver.find_element(By.ID, "emolens-local-start").click()
    WebDriverWait(driver, 120).until(lambda d: d.execute_script("return window.emolensCamera.stats().frames") > 0)
    time.sleep(warmup_s)
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(1.0)
        stats = driver.execute_script("return window.emolensCamera.stats()")
        if stats["threads"] != threads or (stats["width"], stats["height"]) != (640, 480):
            raise SystemExit(
                f"the page ran {stats['threads']} thread(s) at {stats['width']}x{stats['height']}: {stats}"
            )
        samples.append(stats)
    driver.find_element(By.ID, "emolens-local-start").click()
    return samples


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="sampling time per run (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before sampling (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="page loads per thread count (default %(default)s)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="WASM thread counts (default 1 2)")
    parser.add_argument("--camera-fps", type=float, help="the fake camera's rate (default: the clip's, 24)")
    parser.add_argument("--models", nargs="+", default=["fast"], help="served models to compare (default: fast)")
    args = parser.parse_args()
    if not CLIP.is_file():
        raise SystemExit(f"needs {CLIP} (the shared media folder beside the repository)")
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_y4m(CLIP, Path(tmp) / "camera.y4m", 75, fps=args.camera_fps)
        servers = {model: start_server(["--workers", "1", "--model", model]) for model in args.models}
        driver = browser(clip, Path(tmp) / "profile")
        results: dict[tuple[str, int], list[dict[str, float]]] = {
            (model, n): [] for model in args.models for n in args.threads
        }
        load_before = os.getloadavg()[0]
        try:
            for _ in range(args.runs):
                for model, threads in results:  # interleaved, so all meet the same load
                    results[model, threads] += run_once(driver, servers[model][0], threads, args.warmup, args.seconds)
        finally:
            driver.quit()
            for _, server in servers.values():
                server.terminate()
                server.wait(timeout=30)
        load_after = os.getloadavg()[0]
    load = f"load average {load_before:.1f} before, {load_after:.1f} after"
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores; {load}")
    print(
        f"fake camera 640x480 at {args.camera_fps or 'the clip rate'} frames/s ({CLIP.name}); "
        f"{args.runs} run(s) x {args.seconds:g} s per setting; medians\n"
    )
    print(
        "| model | WASM threads | frames/s | grab ms | detect ms/frame | detect ms/run | classify ms | draw ms"
        " | samples |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (model, threads), samples in results.items():
        medians = [statistics.median(s[f] for s in samples if s[f] is not None) for f in FIELDS]
        cells = " | ".join(f"{v:.1f}" for v in medians)
        print(f"| {Path(model).name} | {threads} | {cells} | {len(samples)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
