"""Classifier throughput: faces per second through EmotionClassifier.predict (preprocessing included).

    python benchmarks/bench_classifier.py [--model fast|PATH] [--repeats 7] [--seconds 0.5]

Targets, for the default model (`fast`): <= 3 ms per face at batch 1 on one thread (the accuracy issue);
>= 2000 faces/s batched (batch 32) on the 2-core machine, that is with both threads (the real-time issue).
Other models are shown against them for comparison ("fast's target ...: inside/outside"): `accurate` trades
speed for accuracy and has no target of its own.
Each cell is the median over `repeats` runs, each run as many calls as fit in `seconds`. "CPU ms/face" is
process CPU time per face: on a machine busy with other work it shows what the wall clock would on an idle one
(for one thread; with two threads it adds up both).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.registry import model_path


def measure(
    classifier: EmotionClassifier, crops: list[np.ndarray], repeats: int, seconds: float
) -> tuple[float, float]:
    """(median faces per wall-clock second, median CPU milliseconds per face)."""
    classifier.predict(crops)  # warm-up: onnxruntime allocates on the first run
    rates, cpu_ms = [], []
    for _ in range(repeats):
        calls, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while True:
            classifier.predict(crops)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        faces = calls * len(crops)
        rates.append(faces / elapsed)
        cpu_ms.append(1000.0 * (time.process_time() - cpu_start) / faces)
    return statistics.median(rates), statistics.median(cpu_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fast")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--crop-px", type=int, default=96, help="side of the synthetic face crops (resized to 48)")
    args = parser.parse_args()
    path = model_path(args.model)
    rng = np.random.default_rng(0)
    pool = [rng.integers(0, 256, (args.crop_px, args.crop_px, 3), dtype=np.uint8) for _ in range(32)]
    print(
        f"model {path.name} ({EmotionClassifier(path).architecture}), crops {args.crop_px}x{args.crop_px} BGR, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    is_default = path == model_path()

    def verdict(target: str, ok: bool) -> str:
        if is_default:
            return f"{target}: {'met' if ok else 'MISSED'}"
        return f"fast's target {target}: {'inside' if ok else 'outside'}"

    print("| threads | batch | faces/s | ms/face | CPU ms/face | target |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        classifier = EmotionClassifier(path, threads=threads)
        for batch in (1, 32):
            rate, cpu_ms = measure(classifier, pool[:batch], args.repeats, args.seconds)
            ms = 1000.0 / rate
            if batch == 1 and threads == 1:
                target = verdict("<= 3 ms/face", ms <= 3.0)
            elif batch == 32 and threads == 2:
                target = verdict(">= 2000 faces/s", rate >= 2000)
            else:
                target = ""
            print(f"| {threads} | {batch} | {rate:,.0f} | {ms:.3f} | {cpu_ms:.3f} | {target} |")


if __name__ == "__main__":
    main()
