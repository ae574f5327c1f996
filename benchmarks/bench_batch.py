"""Throughput of `emolens batch` over a generated archive: local with 1 and 2 workers, Ray on a local cluster.

    python benchmarks/bench_batch.py [--photos 120] [--clip-copies 2] [--workers 2] [--repeats 2]

The archive (in a temporary folder): `--photos` photos, cycling through the shared photos as they are and
composites of them (2x2 and 3x3 grids, scaled to 480, 960 and 1920 px wide), plus `--clip-copies` copies of
each shared clip. Each configuration runs `run_batch` into a fresh output folder with the default options
(those of `emolens batch` with no flags), model loading included; Ray's cluster start is timed
apart (a cluster is usually running already) and its per-task overhead is measured with an empty actor call.
Peak memory is the largest resident set any one worker process reached (sampled every 50 ms).

Prints one table row per configuration and round with inputs/s, frames/s and faces/s, the ratios the targets
name (local 2 workers over 1, Ray over local at the same worker count) within each round, and the per-frame
cost of video.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import psutil

from emolens.api import RecognizerOptions
from emolens.batch import BatchOptions, run_batch

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
PHOTOS = ("single_face.jpg", "multi_face.jpg", "obama.jpg", "biden.jpg", "astronaut.png")
CLIPS = ("single_face.mp4", "no_face.mp4", "face_noface.mov", "WolfgangLanger_Pexels.mp4")


def make_archive(root: Path, photos: int, clip_copies: int) -> Path:
    images = [cv2.imread(str(MEDIA / name)) for name in PHOTOS]
    tiles = [cv2.resize(image, (320, 320)) for image in images]
    made = 0
    while made < photos:
        kind = made % 4
        if kind == 0:  # a shared photo as it is
            shutil.copy(MEDIA / PHOTOS[made // 4 % len(PHOTOS)], root / f"photo_{made:05d}{Path(PHOTOS[0]).suffix}")
        else:  # a grid of several faces, at one of three sizes
            side = 2 if kind < 3 else 3
            cells = [tiles[(made + i) % len(tiles)] for i in range(side * side)]
            grid = np.vstack([np.hstack(cells[r * side : (r + 1) * side]) for r in range(side)])
            width = (480, 960, 1920)[made // 4 % 3]
            grid = cv2.resize(grid, (width, width))
            cv2.imwrite(str(root / f"grid_{made:05d}.jpg"), grid, [cv2.IMWRITE_JPEG_QUALITY, 90])
        made += 1
    for copy in range(clip_copies):
        for name in CLIPS:
            shutil.copy(MEDIA / name, root / f"clip{copy}_{name}")
    return root


class PeakMemory:
    """Samples the resident set of this process's worker descendants; keeps each one's peak."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            for child in me.children(recursive=True):
                try:
                    if self.marker in " ".join(child.cmdline()):
                        self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), child.memory_info().rss)
                except psutil.Error:
                    continue


@dataclass
class Row:
    name: str
    inputs: int
    frames: int
    faces: int
    seconds: float
    peak_mb: float
    video_s_per_frame: float

    def line(self) -> str:
        return (
            f"| {self.name} | {self.inputs / self.seconds:.2f} | {self.frames / self.seconds:.1f} | "
            f"{self.faces / self.seconds:.1f} | {self.seconds:.1f} | {self.peak_mb:.0f} |"
        )


def run_one(name: str, archive: Path, out_root: Path, options: BatchOptions, marker: str) -> Row:
    out = out_root / name.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    with PeakMemory(marker) as memory:
        started = time.perf_counter()
        summary = run_batch([archive], out, options)
        seconds = time.perf_counter() - started
    assert not summary.failed, summary.failed[:3]
    videos = [row for row in summary.rows if row.kind == "video"]
    per_frame = sum(r.wall_s for r in videos) / max(1, sum(r.frames for r in videos))
    peak = max(memory.peaks.values(), default=0) / 2**20
    return Row(name, len(summary.rows), summary.frames, summary.faces, seconds, peak, per_frame)


def ray_task_overhead_ms(calls: int = 300) -> float:
    import ray
    from ray.util import ActorPool

    @ray.remote(num_cpus=1)
    class Echo:
        def echo(self, value: int) -> int:
            return value

    pool = ActorPool([Echo.remote(), Echo.remote()])  # type: ignore[attr-defined]
    list(pool.map_unordered(lambda actor, v: actor.echo.remote(v), range(20)))  # warm up
    started = time.perf_counter()
    list(pool.map_unordered(lambda actor, v: actor.echo.remote(v), range(calls)))
    return (time.perf_counter() - started) / calls * 1000 * 2  # two actors: wall per call on one of them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--clip-copies", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="the worker count compared with one worker")
    parser.add_argument("--repeats", type=int, default=2, help="rounds; each runs every configuration once")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    if not MEDIA.is_dir():
        raise SystemExit(f"needs {MEDIA} (the shared media folder beside the repository)")
    recognizer = RecognizerOptions()  # the defaults, which `emolens batch` with no flags uses too
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "archive").mkdir()
        archive = make_archive(Path(tmp) / "archive", args.photos, args.clip_copies)
        size_mb = sum(p.stat().st_size for p in archive.iterdir()) / 2**20
        print(f"archive: {args.photos} photos, {args.clip_copies * len(CLIPS)} clips, {size_mb:.0f} MB; "
              f"options {recognizer}")  # fmt: skip
        out_root = Path(tmp) / "out"
        configs: list[tuple[str, BatchOptions, str]] = [
            ("local, 1 worker", BatchOptions(recognizer, workers=1), "spawn_main"),
            (f"local, {args.workers} workers", BatchOptions(recognizer, workers=args.workers), "spawn_main"),
        ]
        rows: dict[str, list[Row]] = {}
        startup_s = overhead_ms = None
        if not args.skip_ray:
            import ray

            started = time.perf_counter()
            ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
            startup_s = time.perf_counter() - started
            overhead_ms = ray_task_overhead_ms()
            configs.append((f"ray, {args.workers} actors", BatchOptions(recognizer, engine="ray", workers=args.workers),
                            "RayWorker"))  # fmt: skip
        for _ in range(args.repeats):
            for name, options, marker in configs:
                row = run_one(name, archive, out_root, options, marker)
                rows.setdefault(name, []).append(row)
                print(f"  {name}: {row.seconds:.1f} s", flush=True)
        print("\n| engine | round | inputs/s | frames/s | faces/s | wall s | peak MB per worker |")
        print("|---|---|---|---|---|---|---|")
        for name, runs in rows.items():
            for number, row in enumerate(runs, start=1):
                print(row.line().replace(f"| {name} |", f"| {name} | {number} |", 1))
        # Ratios within one round only: the machine is shared, and rounds minutes apart see different loads.
        one = rows["local, 1 worker"]
        many = rows[f"local, {args.workers} workers"]
        scaling = [a.seconds / b.seconds for a, b in zip(one, many, strict=True)]
        print(f"\nlocal {args.workers} workers / 1 worker, per round: {', '.join(f'{r:.2f}x' for r in scaling)} "
              f"(median {statistics.median(scaling):.2f}x; target >= 1.8x for 2)")  # fmt: skip
        if not args.skip_ray:
            ray_runs = rows[f"ray, {args.workers} actors"]
            versus = [b.seconds / r.seconds for b, r in zip(many, ray_runs, strict=True)]
            print(f"ray / local at {args.workers} workers, per round: {', '.join(f'{r:.2f}x' for r in versus)} "
                  f"(median {statistics.median(versus):.2f}x; target: within 15%, i.e. >= 0.85x)")  # fmt: skip
            print(f"ray: local cluster start {startup_s:.1f} s (not in the table); "
                  f"empty actor call {overhead_ms:.2f} ms per task")  # fmt: skip
        costs = [r.video_s_per_frame for runs in rows.values() for r in runs]
        alone = statistics.median(r.video_s_per_frame for r in one)
        print(f"video: {statistics.median(costs) * 1000:.2f} ms per frame per worker (median over all runs, "
              f"{alone * 1000:.2f} ms with one worker alone)")  # fmt: skip
        if not args.skip_ray:
            import ray

            ray.shutdown()


if __name__ == "__main__":
    main()
