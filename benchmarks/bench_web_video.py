"""The web app's Video tab against `emolens video`, same clip, same defaults, same outputs, in one run.

    python benchmarks/bench_web_video.py [VIDEO] [--runs 3]

Web: a real `emolens serve` (started here, on a free loopback port, with its defaults) is sent the clip through
Gradio's API, the call the page's Run button makes (`/on_video`: upload, analysis in the worker pool with a
progress event per frame, annotated H.264 video + CSV + JSONL + timeline, and the result files fetched back).
CLI: `emolens video CLIP --out a.mp4 --jsonl --csv --timeline` as a fresh process, the same outputs.

Printed per path, medians over --runs (the two paths alternate, so both see the same load): the analysis frames/s
each one reports itself (frames / seconds of `analyze_video`, the figure in the web summary and the CLI's line),
and the wall-clock frames/s a user waits for (web: the whole API call; CLI: the whole process, start-up and model
load included), each with its ratio web / CLI. Both read RecognizerOptions' defaults (tests/cli/test_cli_help.py
checks that the served options equal the command's).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from serving import EMOLENS, start_server

DEFAULT_VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "WolfgangLanger_Pexels.mp4"
#: "472 frames, ... (86.1 frames/s)" in the web summary; "... 9.6 s (49.4 fps)" on the CLI's line.
FPS = re.compile(r"\(([\d.]+) (?:frames/s|fps)\)")
FRAMES = re.compile(r"(\d+) frames")


def run_web(url: str, video: Path, downloads: Path) -> tuple[int, float, float]:
    """(frames, analysis fps, wall seconds) of one Video-tab run through Gradio's API."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=str(downloads))
    started = time.perf_counter()
    result = client.predict(handle_file(str(video)), "en", api_name="/on_video")
    wall_s = time.perf_counter() - started
    summary = result[-1]
    fps, frames = FPS.search(summary), FRAMES.search(summary)
    if not (fps and frames and result[0]):
        raise SystemExit(f"the Video tab did not analyse {video.name}: {summary}")
    return int(frames.group(1)), float(fps.group(1)), wall_s


def run_cli(video: Path, out: Path) -> tuple[int, float, float]:
    """(frames, analysis fps, wall seconds) of one `emolens video` process writing the Video tab's outputs."""
    args = ["video", str(video), "--out", str(out / "a.mp4"), "--jsonl", str(out / "a.jsonl")]
    args += ["--csv", str(out / "a.csv"), "--timeline", str(out / "timelines")]
    started = time.perf_counter()
    done = subprocess.run([*EMOLENS, *args], capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - started
    fps, frames = FPS.search(done.stdout), FRAMES.search(done.stdout)
    if done.returncode != 0 or not (fps and frames):
        raise SystemExit(f"emolens video failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(frames.group(1)), float(fps.group(1)), wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.video.exists():
        raise SystemExit(f"{args.video}: no such file (the shared media folder beside the repository?)")
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
    runs: dict[str, list[tuple[int, float, float]]] = {"web": [], "cli": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url, server = start_server([], work / "serve.log")
        try:
            run_web(url, args.video, work / "warm-up")  # the first call builds Gradio's client-side state
            for i in range(args.runs):
                runs["web"].append(run_web(url, args.video, work / f"web-{i}"))
                (work / f"cli-{i}").mkdir()
                runs["cli"].append(run_cli(args.video, work / f"cli-{i}"))
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:  # an open event stream of the client can hold uvicorn's shutdown
                server.kill()
                server.wait()
    print(f"load average at end: {Path('/proc/loadavg').read_text().split()[:3]}\n")
    frames = runs["cli"][0][0]
    print(f"{args.video.name}, {frames} frames, medians of {args.runs} alternating runs\n")
    print("| path | analysis frames/s | wall s | wall frames/s |")
    print("|---|---|---|---|")
    med = {
        name: (statistics.median(r[1] for r in rs), statistics.median(r[2] for r in rs)) for name, rs in runs.items()
    }
    labels = {
        "web": "web app, Video tab (Gradio API of a running `emolens serve`)",
        "cli": "`emolens video` (a process)",
    }
    for name in ("web", "cli"):
        fps, wall_s = med[name]
        print(f"| {labels[name]} | {fps:.1f} | {wall_s:.2f} | {frames / wall_s:.1f} |")
    print(f"| ratio web / CLI | {med['web'][0] / med['cli'][0]:.2f} | | {med['cli'][1] / med['web'][1]:.2f} |")


if __name__ == "__main__":
    main()
