"""Throughput of `emolens batch` over a generated archive: local with 1 and 2 workers, Ray on a local cluster.

    python benchmarks/bench_batch.py [--photos 120] [--clip-copies 2] [--workers 2] [--repeats 2]

The archive (in a temporary folder): `--photos` photos, cycling through the shared photos as they are and
composites of them (2x2 and 3x3 grids, scaled to 480, 960 and 1920 px wide), plus `--clip-copies` copies of
each shared clip. Each configuration runs `run_batch` into a fresh output folder with the default options
(those of `emolens batch` with no flags), model loading included. Ray runs only around its own runs (started
and stopped in each round; the start is timed apart, as a cluster is usually running already), and its per-task
overhead is measured with an empty actor call. Peak memory is the largest peak resident set (the kernel's VmHWM)
any one worker process reached.

Prints one table row per configuration and round with inputs/s, frames/s and faces/s, peak memory, the driver's
CPU time as a share of the wall time, the worker processes' CPU seconds (local engine; equal for 1 and 2
workers when a second worker wastes nothing, whatever the machine's load), and the idle tail (the time from the
second-to-last input finishing to the last: with 2 workers, at most that long one of them had nothing to do);
then the ratios the targets name (local 2 workers over 1, Ray over local at the same worker count) within each
round, the per-frame cost of video, and the load average before, during and after.
"""

from __future__ import annotations

import argparse
import os
import resource
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
from emolens.cli.batch_cmd import RAY_ONE_MACHINE_SWITCH

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
    """The peak resident set (the kernel's VmHWM) of this process's worker descendants, read every 0.5 s.

    The kernel keeps each process's peak itself, so a slow poll misses nothing but a worker's last half second;
    polling fast would cost the driver CPU time that a run with every core busy takes from its workers.
    """

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
        while not self._stop.wait(0.5):
            for child in me.children(recursive=True):
                try:
                    # Asked again until it says so: a Ray worker starts idle and takes its actor's name later.
                    if child.pid in self.peaks or self.marker in " ".join(child.cmdline()):
                        self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), _peak_rss_bytes(child.pid))
                except (psutil.Error, OSError, ValueError):
                    continue


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Row:
    name: str
    inputs: int
    frames: int
    faces: int
    seconds: float
    peak_mb: float
    video_s_per_frame: float
    driver_cpu_s: float  # this process's CPU time during the run (scheduling, ledger, progress, memory polling)
    workers_cpu_s: float | None  # the pool's processes' CPU time, model loading included (None: Ray's actors)
    tail_s: float  # from the second-to-last input finishing to the last: at most that long, a worker idled

    def line(self) -> str:
        return (
            f"| {self.name} | {self.inputs / self.seconds:.2f} | {self.frames / self.seconds:.1f} | "
            f"{self.faces / self.seconds:.1f} | {self.seconds:.1f} | {self.peak_mb:.0f} | "
            f"{100 * self.driver_cpu_s / self.seconds:.1f}% | "
            f"{'-' if self.workers_cpu_s is None else f'{self.workers_cpu_s:.1f}'} | {self.tail_s:.2f} |"
        )


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_one(name: str, archive: Path, out_root: Path, options: BatchOptions, marker: str) -> Row:
    out = out_root / name.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    finished: list[float] = []
    with PeakMemory(marker) as memory:
        cpu_before, children_before, started = cpu_s(), cpu_s(resource.RUSAGE_CHILDREN), time.perf_counter()
        summary = run_batch([archive], out, options, on_progress=lambda _: finished.append(time.perf_counter()))
        seconds, driver_cpu_s = time.perf_counter() - started, cpu_s() - cpu_before
    # The pool's processes are this process's children, waited for when the pool closes; Ray's are not.
    workers_cpu_s = cpu_s(resource.RUSAGE_CHILDREN) - children_before if options.engine == "local" else None
    assert not summary.failed, summary.failed[:3]
    videos = [row for row in summary.rows if row.kind == "video"]
    per_frame = sum(r.wall_s for r in videos) / max(1, sum(r.frames for r in videos))
    peak = max(memory.peaks.values(), default=0) / 2**20
    tail_s = finished[-1] - finished[-2] if len(finished) > 2 else 0.0
    return Row(
        name, len(summary.rows), summary.frames, summary.faces, seconds, peak, per_frame, driver_cpu_s, workers_cpu_s,
        tail_s,
    )  # fmt: skip


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
    os.environ.setdefault(RAY_ONE_MACHINE_SWITCH, "0")  # Ray on 127.0.0.1, as `emolens batch --engine ray` starts it
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
        startup_s: list[float] = []
        overhead_ms = None
        ray_name = f"ray, {args.workers} actors"
        if not args.skip_ray:
            configs.append((ray_name, BatchOptions(recognizer, engine="ray", workers=args.workers), "RayWorker"))
        print(f"load average before: {load_average()}", flush=True)
        for _ in range(args.repeats):
            for name, options, marker in configs:
                # Ray runs only around its own configuration: its idle daemons take a few % of a core, which
                # the local runs would otherwise pay for (the 1-worker run on the spare core, for free).
                if name == ray_name:
                    import ray

                    started = time.perf_counter()
                    ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
                    startup_s.append(time.perf_counter() - started)
                    overhead_ms = overhead_ms if overhead_ms is not None else ray_task_overhead_ms()
                try:
                    row = run_one(name, archive, out_root, options, marker)
                finally:
                    if name == ray_name:
                        ray.shutdown()
                rows.setdefault(name, []).append(row)
                print(f"  {name}: {row.seconds:.1f} s (load average {load_average()})", flush=True)
        print("\n| engine | round | inputs/s | frames/s | faces/s | wall s | peak MB a worker | driver CPU "
              "| workers' CPU s | tail s |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|")
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
            ray_runs = rows[ray_name]
            versus = [b.seconds / r.seconds for b, r in zip(many, ray_runs, strict=True)]
            print(f"ray / local at {args.workers} workers, per round: {', '.join(f'{r:.2f}x' for r in versus)} "
                  f"(median {statistics.median(versus):.2f}x; target: within 15%, i.e. >= 0.85x)")  # fmt: skip
            print(f"ray: local cluster start {statistics.median(startup_s):.1f} s (median; not in the table); "
                  f"empty actor call {overhead_ms:.2f} ms per task")  # fmt: skip
        costs = [r.video_s_per_frame for runs in rows.values() for r in runs]
        alone = statistics.median(r.video_s_per_frame for r in one)
        print(f"video: {statistics.median(costs) * 1000:.2f} ms per frame per worker (median over all runs, "
              f"{alone * 1000:.2f} ms with one worker alone)")  # fmt: skip
        print(f"load average after: {load_average()}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
