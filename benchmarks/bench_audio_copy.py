"""What keeping the sound costs an annotated video: wall seconds of `copy_audio` (the remux after the last frame)
against the seconds of writing the silent video itself, per clip, medians of --runs.

The silent H.264 copy of each clip is written once through VideoSink (as `emolens video --out` does, without
the analysis); each run copies the clip's sound into a fresh copy of it. Clips without sound are listed and skipped.

    python benchmarks/bench_audio_copy.py [--runs 5] [CLIP ...]      # default: the shared clips
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from emolens.io.sinks import VideoSink, copy_audio, has_audio
from emolens.io.sources import VideoFileSource

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEFAULT_CLIPS = ("single_face.mp4", "WolfgangLanger_Pexels.mp4", "face_noface.mov", "no_face.mp4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path, default=[MEDIA / name for name in DEFAULT_CLIPS])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"CPU: {_cpu_name()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"{'clip':28} {'frames':>6} {'length_s':>8} {'write_s':>8} {'copy_audio_s':>12} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            if not has_audio(clip):
                print(f"{clip.name:28} (no sound: nothing to copy)")
                continue
            silent = Path(tmp) / "silent.mp4"
            started = time.perf_counter()
            with VideoFileSource(clip) as source, VideoSink(silent, source.fps, source.size_px) as sink:
                for frame in source:
                    sink.write(frame.image)
                fps = sink.fps
            write_s = time.perf_counter() - started
            frames = sink.frames_written
            copies = []
            for run in range(args.runs):
                out = Path(tmp) / f"copy{run}.mp4"
                shutil.copy(silent, out)
                started = time.perf_counter()
                if not copy_audio(out, clip, frames / fps):
                    raise SystemExit(f"{clip}: copying the sound failed (see the warning above)")
                copies.append(time.perf_counter() - started)
            copy_s = statistics.median(copies)
            print(
                f"{clip.name:28} {frames:6d} {frames / fps:8.1f} {write_s:8.2f} {copy_s:12.3f} {copy_s / write_s:6.2f}"
            )
    print(f"{args.runs} runs per clip; write_s: decoding and H.264-encoding the frames once (no analysis)")


def _cpu_name() -> str:
    """The CPU's model name as lscpu gives it (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
