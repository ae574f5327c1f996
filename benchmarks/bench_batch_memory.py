"""Memory of one `emolens batch` worker: over one long video, and over many inputs in a row.

    python benchmarks/bench_batch_memory.py [--loops 12] [--cycles 3] [--photos 200] [--clip-copies 2]

1. A long video: the shared clip WolfgangLanger_Pexels.mp4 (472 frames, 640x360) played `--loops` times into one
   file (FFmpeg's -stream_loop, no re-encoding; 12 loops: 5,664 frames, about 4 minutes). One worker process
   (the Worker class both engines run, default options), after one photo (so that the Parquet writer is loaded,
   as in any run), processes it while a thread in that process samples its resident set every 0.1 s; printed:
   the resident set before the video, at 10%, 50% and 90% of the processing time (frames go at a steady rate,
   so that is 10%, 50% and 90% of the frames), at the end (its face rows written), and the peak.
2. Many inputs: the same worker type over bench_batch.py's archive (`--photos` photos, `--clip-copies` copies of
   each shared clip), `--cycles` times over; printed: the resident set after each cycle and the peak (VmHWM).
   Flat means nothing is kept from one input to the next; growth per cycle is a leak.

(Until the face detector became an ONNX file, a `--yuface-binding` flag here ran the CNN through the `yuface`
wheel's Python binding, which leaked a 36 KB buffer per call; emolens no longer uses yuface at all.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

from emolens.api import RecognizerOptions
from emolens.batch.work import Task, Worker, WorkerConfig

BENCH_DIR = Path(__file__).resolve().parent
MEDIA = BENCH_DIR.parents[1] / "shared" / "media"
CLIP = "WolfgangLanger_Pexels.mp4"


def loop_clip(source: Path, loops: int, target: Path) -> Path:
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(source)]
    subprocess.run([*command, "-an", "-c", "copy", str(target)], check=True)
    return target


class Sampler:
    """Samples this process's resident set (MB) every `period_s` in a thread, with the time of each sample."""

    def __init__(self, period_s: float = 0.1) -> None:
        self.samples: list[tuple[float, float]] = []
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._me = psutil.Process()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        self.samples.append((time.perf_counter(), self._me.memory_info().rss / 2**20))

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            self._sample()


def make_worker(out_dir: str) -> Worker:
    return Worker(WorkerConfig(RecognizerOptions(), out_dir, 50_000))


def long_video(video: str, out_dir: str) -> dict[str, float]:
    """In a fresh worker process: its resident set while it processes `video`."""
    worker = make_worker(out_dir)
    photo = MEDIA / "single_face.jpg"  # as in a run: one input done already, so the Parquet writer is loaded
    assert worker.process(Task(str(photo), "photo", photo.stat().st_size)).ok
    loaded_mb = psutil.Process().memory_info().rss / 2**20
    with Sampler() as sampler:
        started = time.perf_counter()
        row = worker.process(Task(video, "long", Path(video).stat().st_size))
        ended = time.perf_counter()
    assert row.ok, row.status

    return {
        "frames": row.frames,
        "seconds": ended - started,
        "loaded": loaded_mb,
        "10%": _last_before(sampler.samples, started + 0.1 * (ended - started)),
        "50%": _last_before(sampler.samples, started + 0.5 * (ended - started)),
        "90%": _last_before(sampler.samples, started + 0.9 * (ended - started)),
        "end": sampler.samples[-1][1],
        "peak": max(mb for _, mb in sampler.samples),
    }


def _last_before(samples: list[tuple[float, float]], moment: float) -> float:
    before = [mb for t, mb in samples if t <= moment]
    return before[-1] if before else samples[0][1]


def many_inputs(paths: list[str], cycles: int, out_dir: str) -> list[float]:
    """In a fresh worker process: its resident set after each pass over `paths`, then its peak (VmHWM)."""
    worker = make_worker(out_dir)
    me = psutil.Process()
    after: list[float] = []
    for cycle in range(cycles):
        for number, path in enumerate(paths):
            row = worker.process(Task(path, f"c{cycle}-{number}", Path(path).stat().st_size))
            assert row.ok, row.status
        after.append(me.memory_info().rss / 2**20)
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return [*after, peak_kb / 1024]


def in_worker_process(function: object, *args: object) -> object:
    """`function(*args)` in a spawned process, as the local engine's pool runs its workers."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)  # type: ignore[arg-type]


def main() -> None:
    import sys

    sys.path.insert(0, str(BENCH_DIR))
    from bench_batch import CLIPS, make_archive

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=12, help="plays of the clip in the long video")
    parser.add_argument("--cycles", type=int, default=3, help="passes over the archive")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--clip-copies", type=int, default=2)
    args = parser.parse_args()
    if not MEDIA.is_dir():
        raise SystemExit(f"needs {MEDIA} (the shared media folder beside the repository)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "out" / "faces").mkdir(parents=True)
        video = loop_clip(MEDIA / CLIP, args.loops, root / "long.mp4")
        got = in_worker_process(long_video, str(video), str(root / "out"))
        assert isinstance(got, dict)
        print(f"long video ({args.loops} x {CLIP}: {got['frames']:.0f} frames, {got['seconds']:.0f} s)")
        print("| before the video | 10% of its frames | 50% | 90% | end (its rows written) | peak |")
        print("|---|---|---|---|---|---|")
        print(" ".join(["|", *(f"{got[k]:.0f} MB |" for k in ("loaded", "10%", "50%", "90%", "end", "peak"))]))
        (root / "archive").mkdir()
        archive = make_archive(root / "archive", args.photos, args.clip_copies)
        paths = sorted((str(p) for p in archive.iterdir()), key=lambda p: -Path(p).stat().st_size)
        after = in_worker_process(many_inputs, paths, args.cycles, str(root / "out"))
        assert isinstance(after, list)
        print(f"\nmany inputs ({args.photos} photos and {args.clip_copies * len(CLIPS)} clips, {len(paths)} inputs "
              f"a pass): resident set after each pass")  # fmt: skip
        print("| " + " | ".join(f"pass {n}" for n in range(1, len(after))) + " | peak |")
        print("|" + "---|" * len(after))
        print("| " + " | ".join(f"{mb:.0f} MB" for mb in after) + " |")
        print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[0]}")


if __name__ == "__main__":
    main()
