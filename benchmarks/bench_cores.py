"""What two processes get out of this machine: the ceiling for `emolens batch --workers 2` over one worker.

    python benchmarks/bench_cores.py [--seconds 4] [--repeats 3] [--work python onnxruntime frame photo]

Each kind of work below is timed in one process alone, then in two processes at once doing the same amount each
(spawned, started together, each timing only its own work, every library held to one thread as batch's workers
are). The speed-up is 2 x (time alone) / (slowest time of the two). Work that shares nothing scales by 2.00x on two
idle cores; less is what the machine (its cores, caches, memory bandwidth, the hypervisor, other jobs) allows,
and no scheduling in emolens can beat it. The CPU seconds each process spent (alone, and side by side) tell
the two causes apart: other jobs on the machine lengthen the wall time but not the CPU time; cores that slow each
other down (shared caches, memory bandwidth, the hypervisor) lengthen the CPU time too.

- python: a pure-Python integer loop (the interpreter alone; no memory traffic to speak of).
- onnxruntime: the shipped `fast` model on batches of 8 face crops, as the batch workers run it.
- frame: the whole per-frame path of a batch worker on the frames of WolfgangLanger_Pexels.mp4 (decoded
  once, beforehand): CNN detection on every 3rd frame, tracking, classification (the Recognizer's stream).
- photo: the whole per-input path of a batch worker (`Worker.process`: sniff, decode, detect, classify, Parquet
  part files committed) on 24 photos of bench_batch.py's archive, its 480-1920 px composites included.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def python_work(rounds: int) -> None:
    total = 0
    for i in range(rounds * 1_000_000):
        total += i * i % 7


def onnx_work(rounds: int) -> None:
    import numpy as np

    from emolens.runtime.classifier import EmotionClassifier
    from emolens.runtime.registry import model_path

    classifier = EmotionClassifier(model_path("fast"), threads=1)
    crops = [np.random.default_rng(i).integers(0, 255, (96, 96, 3), dtype=np.uint8) for i in range(8)]
    for _ in range(rounds * 100):
        classifier.predict(crops)


def frame_work(rounds: int) -> None:
    import cv2

    from emolens.api import Recognizer, RecognizerOptions

    cap = cv2.VideoCapture(str(MEDIA / "WolfgangLanger_Pexels.mp4"), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    frames = []
    while len(frames) < 120:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    recognizer = Recognizer(RecognizerOptions())
    for _ in range(rounds):
        stream = recognizer.stream()
        for index, frame in enumerate(frames):
            stream.process(frame, index / 24.0, index)


@functools.cache
def _photo_worker() -> tuple[object, list[Path]]:
    """A batch Worker writing to a fresh folder, and 24 photos of bench_batch's archive (made once per process)."""
    from bench_batch import make_archive

    from emolens.api import RecognizerOptions
    from emolens.batch.work import Worker, WorkerConfig

    root = Path(tempfile.mkdtemp(prefix="bench-cores-"))
    (root / "in").mkdir()
    (root / "out" / "faces").mkdir(parents=True)
    return Worker(WorkerConfig(RecognizerOptions(), str(root / "out"), 50_000)), sorted(
        make_archive(root / "in", 24, 0).iterdir()
    )


def photo_work(rounds: int) -> None:
    from emolens.batch.work import Task

    worker, photos = _photo_worker()
    for round_ in range(rounds):
        for index, path in enumerate(photos):
            worker.process(Task(str(path), f"r{round_}-{index}-{time.monotonic_ns()}", path.stat().st_size))  # type: ignore[attr-defined]


WORK: dict[str, Callable[[int], None]] = {
    "python": python_work,
    "onnxruntime": onnx_work,
    "frame": frame_work,
    "photo": photo_work,
}


def _one(name: str, rounds: int, start: object) -> tuple[float, float]:
    from emolens.batch.work import hold_thread_pools_to_one

    hold_thread_pools_to_one()
    WORK[name](1)  # warm up: imports, model loading, first calls
    start.wait()  # type: ignore[attr-defined]  # a Barrier: both processes begin together
    wall_s, cpu_s = time.perf_counter(), time.process_time()
    WORK[name](rounds)
    return time.perf_counter() - wall_s, time.process_time() - cpu_s


def timed(name: str, rounds: int, processes: int) -> tuple[float, float]:
    """The wall time of the slowest of `processes` processes each doing `rounds` of `name` at the same time, and
    their mean CPU time."""
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(processes)
    with context.Pool(processes) as pool:
        results = pool.starmap(_one, [(name, rounds, start)] * processes)
    return max(wall for wall, _ in results), statistics.mean(cpu for _, cpu in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="about how long each timing runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", nargs="+", choices=sorted(WORK), default=list(WORK), help="the kinds to time")
    args = parser.parse_args()
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("| work | 1 process s | 2 processes s | speed-up (each repeat) | median | CPU s alone / side by side |")
    print("|---|---|---|---|---|---|")
    for name in args.work:
        per_round, _ = timed(name, 1, 1)
        rounds = max(1, round(args.seconds / per_round))
        ratios, alone, together, cpu_alone, cpu_together = [], [], [], [], []
        for _ in range(args.repeats):
            wall_s, cpu_s = timed(name, rounds, 1)
            alone.append(wall_s)
            cpu_alone.append(cpu_s)
            wall_s, cpu_s = timed(name, rounds, 2)
            together.append(wall_s)
            cpu_together.append(cpu_s)
            ratios.append(2 * alone[-1] / together[-1])
        print(f"| {name} | {statistics.median(alone):.2f} | {statistics.median(together):.2f} | "
              f"{', '.join(f'{r:.2f}x' for r in ratios)} | {statistics.median(ratios):.2f}x | "
              f"{statistics.median(cpu_alone):.2f} / {statistics.median(cpu_together):.2f} |", flush=True)  # fmt: skip
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
