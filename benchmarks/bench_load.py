"""Load on the REST API: N concurrent clients posting one photo to /api/v1/analyze for a bounded time;
with --worst-case, a small photo's and /healthz's latency while worst-case clips run.

    python benchmarks/bench_load.py [--url http://127.0.0.1:7860] [--clients 4] [--seconds 15]
                                    [--image ../shared/media/single_face.jpg] [--workers 0]
    python benchmarks/bench_load.py --worst-case [--clips 2] [--clip-frames 90] [--workers 2]
    python benchmarks/bench_load.py --rounds 6 [--clips 2] [--clip-frames 30] [--workers 2]

--worst-case writes a 3840x2160 clip (4K UHD, just under the server's 8.3-megapixel frame cap), posts
--clips of them at once, and meanwhile times /healthz and the photo; it prints the server's resident memory
before, at its peak and after. --rounds N repeats that load of clips N times, one round after another, and
prints the server's resident memory after each round (and its peak during it): flat when memory comes back.
Every request targets 127.0.0.1; every loop is bounded in count and time.

Without --url it starts `emolens serve` on a free loopback port (with --workers) and stops it at the end.
Prints requests/s, p50/p99 latency, errors (must be 0), and the server's resident memory before and after
(read from /proc, so only for a server this script started or one given by --pid).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from serving import start_server

REPO = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = REPO.parent / "shared" / "media" / "single_face.jpg"
MULTI_FACE = REPO.parent / "shared" / "media" / "multi_face.jpg"


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def client(url: str, data: bytes, name: str, stop_at: float, tally: Tally) -> None:
    with httpx.Client(timeout=120) as http:
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                response = http.post(f"{url}/api/v1/analyze", files={"file": (name, data)})
                problem = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as err:
                problem = type(err).__name__
            elapsed = time.perf_counter() - start
            with tally.lock:
                if problem:
                    tally.errors.append(problem)
                else:
                    tally.latencies_s.append(elapsed)


def make_worst_clip(path: Path, frames: int, image: Path) -> Path:
    """A clip of `frames` 3840x2160 frames, the largest 16:9 size under the server's frame cap: the shared photo
    scaled up, drifting a little."""
    import cv2
    import numpy as np

    # 4K UHD, spelled out rather than read from WebOptions.max_frame_pixels, so that the script measures the same
    # clip on servers from before and after that cap changed (from 3840 x 2160 to 8.3 megapixels).
    width, height = 3840, 2160
    base = cv2.resize(cv2.imread(str(image)), (width + 64, height + 64), interpolation=cv2.INTER_LINEAR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 24.0, (width, height))
    for index in range(frames):
        shift = index % 64
        writer.write(np.ascontiguousarray(base[shift : shift + height, shift : shift + width]))
    writer.release()
    return path


def timed_ms(send: Callable[[], httpx.Response], count: int) -> list[float]:
    """Latencies in ms of `count` sequential requests; a failed one raises."""
    out = []
    for _ in range(count):
        start = time.perf_counter()
        send().raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
    return out


def worst_case(url: str, pid: int | None, photo: Path, clips: int, clip_frames: int) -> int:
    data = photo.read_bytes()
    clip = make_worst_clip(Path(tempfile.mkdtemp()) / "worst.mp4", clip_frames, MULTI_FACE)
    clip_bytes = clip.read_bytes()

    def post_photo() -> httpx.Response:
        return httpx.post(f"{url}/api/v1/analyze", files={"file": (photo.name, data)}, timeout=300)

    def healthz() -> httpx.Response:
        return httpx.get(f"{url}/healthz", timeout=300)

    post_photo().raise_for_status()  # warm-up
    rss_before = rss_mb(pid)
    idle_health, idle_photo = timed_ms(healthz, 20), timed_ms(post_photo, 10)
    peak = [rss_before or 0.0]
    results: list[str] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], rss_mb(pid) or 0.0)

    def post_clip() -> None:
        start = time.perf_counter()
        response = httpx.post(f"{url}/api/v1/analyze-video", files={"file": ("worst.mp4", clip_bytes)}, timeout=600)
        body = response.json()
        took_s = time.perf_counter() - start
        line = f"HTTP {response.status_code}, {body.get('frames_analyzed', 0)} frames in {took_s:.1f} s"
        results.append(line + (f" ({body['error']})" if body.get("error") else ""))

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=post_clip) for _ in range(clips)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # the clips are uploaded and running
    busy_health, busy_photo = timed_ms(healthz, 20), timed_ms(post_photo, 10)
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    time.sleep(3.0)
    rss_after = rss_mb(pid)

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.0f}"

    def mem(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0f} MB"

    print(f"\n{clips} clip(s) of {clip_frames} frames at 3840x2160 ({len(clip_bytes) / 1e6:.1f} MB each), {url}\n")
    print("| | /healthz p50 ms | /healthz max ms | photo p50 ms | photo max ms |")
    print("|---|---|---|---|---|")
    print(f"| idle | {med(idle_health)} | {max(idle_health):.0f} | {med(idle_photo)} | {max(idle_photo):.0f} |")
    busy = f"{med(busy_health)} | {max(busy_health):.0f} | {med(busy_photo)} | {max(busy_photo):.0f}"
    print(f"| behind the clips | {busy} |")
    print(f"\nserver RSS: before {mem(rss_before)}, peak {mem(peak[0])}, after {mem(rss_after)}")
    for line in results:
        print(f"clip: {line}")
    return 0


def clip_rounds(url: str, pid: int | None, clips: int, clip_frames: int, rounds: int) -> int:
    """`rounds` rounds of `clips` worst-case clips posted at once; the server's RSS after each round."""
    clip = make_worst_clip(Path(tempfile.mkdtemp()) / "worst.mp4", clip_frames, MULTI_FACE)
    clip_bytes = clip.read_bytes()
    httpx.post(f"{url}/api/v1/analyze", files={"file": ("w.jpg", MULTI_FACE.read_bytes())}, timeout=300)
    time.sleep(1.0)

    def mem(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0f}"

    print(f"\n{rounds} rounds of {clips} clip(s) of {clip_frames} frames at 3840x2160, {url}")
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}\n")
    print("| round | clips answered | frames analysed | round s | RSS peak MB | RSS after MB |")
    print("|---|---|---|---|---|---|")
    print(f"| before | | | | | {mem(rss_mb(pid))} |", flush=True)
    failures = 0
    for number in range(1, rounds + 1):
        statuses: list[int] = []
        frames: list[int] = []
        peak = [rss_mb(pid) or 0.0]
        done = threading.Event()

        def sample(peak: list[float] = peak, done: threading.Event = done) -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], rss_mb(pid) or 0.0)

        def post_clip(statuses: list[int] = statuses, frames: list[int] = frames) -> None:
            response = httpx.post(f"{url}/api/v1/analyze-video", files={"file": ("w.mp4", clip_bytes)}, timeout=600)
            statuses.append(response.status_code)
            frames.append(int(response.json().get("frames_analyzed", 0)) if response.status_code == 200 else 0)

        start = time.perf_counter()
        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=post_clip) for _ in range(clips)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took_s = time.perf_counter() - start
        time.sleep(2.0)  # the trim after the last clip has run
        done.set()
        sampler.join()
        answered = sum(status == 200 for status in statuses)
        failures += clips - answered
        row = f"| {number} | {answered}/{clips} | {sum(frames)} | {took_s:.1f} | {peak[0]:.0f} | {mem(rss_mb(pid))} |"
        print(row, flush=True)
    print(f"\nload average at end: {Path('/proc/loadavg').read_text().split()[:3]}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server; default: start one")
    parser.add_argument("--pid", type=int, help="the running server's process id, for its memory")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--workers", type=int, default=0, help="for a server this script starts")
    parser.add_argument("--worst-case", action="store_true", help="photo latency behind worst-case clips")
    parser.add_argument("--clips", type=int, default=2, help="worst-case clips posted at once")
    parser.add_argument("--clip-frames", type=int, default=90, help="frames per worst-case clip")
    parser.add_argument("--rounds", type=int, default=0, help="repeat the clips this many rounds; RSS after each")
    args = parser.parse_args()
    data = args.image.read_bytes()
    process = None
    url, pid = args.url, args.pid
    if url is None:
        url, process = start_server(["--workers", str(args.workers)])
        pid = process.pid
    if args.rounds > 0 or args.worst_case:
        try:
            if args.rounds > 0:
                return clip_rounds(url, pid, args.clips, args.clip_frames, args.rounds)
            return worst_case(url, pid, args.image, args.clips, args.clip_frames)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    try:
        # One warm-up request: the first call pays for lazy initialisation, not for load.
        httpx.post(f"{url}/api/v1/analyze", files={"file": (args.image.name, data)}, timeout=120).raise_for_status()
        rss_before = rss_mb(pid)
        tally = Tally()
        start = time.monotonic()
        threads = [
            threading.Thread(target=client, args=(url, data, args.image.name, start + args.seconds, tally))
            for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall_s = time.monotonic() - start
        rss_after = rss_mb(pid)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    ms = sorted(x * 1000 for x in tally.latencies_s)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else float("nan")

    def mem(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0f} MB"

    print(f"\n{args.image.name} ({len(data) / 1024:.0f} KB), {args.clients} clients, {wall_s:.1f} s, {url}\n")
    print("| clients | requests | requests/s | p50 ms | p99 ms | errors | server RSS before | after |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.clients} | {len(ms)} | {len(ms) / wall_s:.1f} | {statistics.median(ms) if ms else float('nan'):.0f} "
        f"| {p99:.0f} | {len(tally.errors)} | {mem(rss_before)} | {mem(rss_after)} |"
    )
    if tally.errors:
        print(f"errors: {sorted(set(tally.errors))}")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
