"""Where the time goes when `emolens video` annotates a clip, and the end-to-end frame rate.

    python benchmarks/bench_video.py [VIDEO] [--frames N] [--threads 1] [--model fast|accurate]

For each configuration two passes run over the same frames:
1. a stage pass that calls the parts one by one and times each: decode (OpenCV reads a frame), detect
   (Haar cascade, only on frames where it runs), classify (crop + one batched onnxruntime call), track
   (IoU tracker + probability smoothing), draw (render.annotate), encode (handing the frame to the
   ffmpeg H.264 process, plus waiting for it to finish the file at the end). Milliseconds per frame,
   averaged over all frames.
2. an end-to-end pass through emolens.video.analyze_video with an annotated .mp4, which is what
   `emolens video INPUT --out OUT.mp4` runs after loading the model (model loading, about 0.1 s, is
   left out). The encoder is a separate process, so on a machine with a free core its work overlaps
   the Python loop: end-to-end fps can beat 1000 / (sum of stages). It also counts the faces found
   (one face is in every frame of the clip): a cheaper detector setting must still find her.

Configurations: "every frame" is `--detect-every 1`; "detect every 3" reuses boxes (the tracker keeps
ids) on two frames of three, as the CLI default `--detect-every 3` does; "... + detector at 320 px" also
runs the cascade on a half-size frame, as `--detector-side-px 320 --min-face-px 80` does. Speed does not
depend on the weights, so the placeholder model gives the same figures as the trained one.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emolens.api import Recognizer, RecognizerOptions
from emolens.io.sinks import VideoSink
from emolens.io.video import VideoFileSource
from emolens.render import annotate, load_label_atlas
from emolens.runtime.detector import HaarFaceDetector
from emolens.runtime.pipeline import PipelineOptions, crop_with_margin
from emolens.runtime.smoother import EmaSmoother
from emolens.runtime.tracker import IouTracker
from emolens.types import FaceResult, FrameResult
from emolens.video import analyze_video

DEFAULT_VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "WolfgangLanger_Pexels.mp4"
STAGES = ("decode", "detect", "classify", "track", "draw", "encode")


@dataclass(frozen=True)
class Config:
    name: str
    detect_every: int
    detector_side_px: int
    min_face_px: int


CONFIGS = (
    Config("every frame", 1, 640, 40),
    Config("detect every 3", 3, 640, 40),
    Config("detect every 3 + detector at 320 px", 3, 320, 80),
    Config("detect every 6 + detector at 320 px", 6, 320, 80),
)


def stage_pass(recognizer: Recognizer, detector: HaarFaceDetector, cfg: Config, video: Path, frames: int) -> dict:
    classifier, margin = recognizer.classifier, recognizer.options.crop_margin
    defaults = PipelineOptions()
    tracker = IouTracker(defaults.iou_threshold, defaults.max_missed, min_hits=1)
    smoother, atlas = EmaSmoother(), load_label_atlas()
    spent = dict.fromkeys(STAGES, 0.0)
    n, detections = 0, []
    with tempfile.TemporaryDirectory() as tmp, VideoFileSource(video) as source:
        sink = VideoSink(Path(tmp) / "stages.mp4", source.fps, source.size_px)
        it = iter(source)
        while n < frames:
            t0 = time.perf_counter()
            frame = next(it, None)
            t1 = time.perf_counter()
            if frame is None:
                break
            if n % cfg.detect_every == 0:
                detections = detector.detect(frame.image)
            t2 = time.perf_counter()
            crops = [crop_with_margin(frame.image, box, margin) for box, _ in detections]
            probs = classifier.predict(crops) if crops else np.zeros((0, 7), np.float32)
            t3 = time.perf_counter()
            ids = tracker.update([box for box, _ in detections])  # type: ignore[assignment]
            smoother.forget(tracker.dropped_ids)
            probs = smoother.update(ids, probs)
            result = FrameResult(
                tuple(
                    FaceResult(b, tuple(map(float, p)), s, i)
                    for (b, s), p, i in zip(detections, probs, ids, strict=True)
                ),
                frame.index,
                frame.time_s,
            )
            t4 = time.perf_counter()
            image = annotate(frame.image, result, "en", atlas=atlas)
            t5 = time.perf_counter()
            sink.write(image)
            t6 = time.perf_counter()
            for stage, dt in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
                spent[stage] += dt
            n += 1
        t_close = time.perf_counter()
        sink.close()
        spent["encode"] += time.perf_counter() - t_close
    return {stage: 1000.0 * s / max(n, 1) for stage, s in spent.items()} | {"frames": n}


def end_to_end(recognizer: Recognizer, video: Path) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        report = analyze_video(recognizer, video, annotated_path=Path(tmp) / "annotated.mp4")
    return report.frames, report.faces, report.fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=10**9, help="stage pass: at most this many frames")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    parser.add_argument("--model", default="fast", help="shipped model name (fast, accurate) or an .onnx path")
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    rows = []
    for cfg in CONFIGS:
        options = RecognizerOptions(
            model=args.model,
            detect_every=cfg.detect_every,
            min_face_px=cfg.min_face_px,
            detector_max_side_px=cfg.detector_side_px,
            threads=args.threads,
        )
        recognizer = Recognizer(options)
        stages = stage_pass(recognizer, recognizer.detector, cfg, args.video, args.frames)
        frames, faces, fps = end_to_end(recognizer, args.video)
        rows.append((cfg, stages, frames, faces, fps))
    print(f"video: {args.video.name}; CPU cores: {os.cpu_count()}; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    header = ["configuration", *(f"{s} ms" for s in STAGES), "sum ms", "frames", "faces found", "end-to-end fps"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for cfg, stages, frames, faces, fps in rows:
        total = sum(stages[s] for s in STAGES)
        cells = [cfg.name, *(f"{stages[s]:.2f}" for s in STAGES), f"{total:.2f}", str(frames), str(faces), f"{fps:.1f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
