"""The measurement behind the video defaults: how often to detect, and on how large a frame, against speed.

    python benchmarks/choose_video_defaults.py [--every 1 2 3 4 6] [--side-px 640 320 256] [--detector auto]

The reference is the detector on every frame at 640 px, every box reported at once, no smoothing. Each
candidate (detect every k-th frame, boxes followed in between, the detector on frames shrunk to a side, the
default `min_hits` confirmation) runs `analyze_video` without smoothing over the project's clips, and is scored
against the reference frame by frame:
- recall: reference faces with a reported box at IoU >= 0.5;
- mean IoU: of each reference face with its best reported box (0 where none): how well crops sit on the face;
- label agreement: of the matched faces, how often the top emotion is the reference's (crops off the face
  change the label);
- false faces: reported boxes matching no reference face, on the clips and on no_face.mp4;
- fps: end to end, JSONL output, on WolfgangLanger_Pexels.mp4 (median of --runs), and the CPU milliseconds
  the process spent per frame (all its threads): on a shared machine the steadier measure of cost.
The first frames of each clip, before a face can be confirmed, count as misses: they are the price of min_hits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from emolens.api import Recognizer, RecognizerOptions
from emolens.types import Box
from emolens.video import analyze_video

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "no_face.mp4")
SPEED_CLIP = "WolfgangLanger_Pexels.mp4"


def frames_of(recognizer: Recognizer, video: Path) -> tuple[list[list[tuple[Box, str]]], float, float]:
    """Per frame, the reported (box, emotion) pairs, unsmoothed; the run's frames/s and CPU ms per frame."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "a.jsonl"
        cpu_s = time.process_time()
        report = analyze_video(recognizer, video, jsonl_path=out, smooth=False)
        cpu_ms = 1000.0 * (time.process_time() - cpu_s) / max(report.frames, 1)
        rows = [json.loads(line) for line in out.open(encoding="utf-8")]
    faces = [[(Box(*face["box"]), face["emotion"]) for face in row["faces"]] for row in rows]
    return faces, report.fps, cpu_ms


def score(reference: list[list[tuple[Box, str]]], candidate: list[list[tuple[Box, str]]]) -> dict[str, float]:
    faces = matched = agree = false = 0
    iou_sum = 0.0
    for ref_faces, got in zip(reference, candidate, strict=True):
        used: set[int] = set()
        for box, emotion in ref_faces:
            faces += 1
            best, best_index = 0.0, -1
            for index, (other, _) in enumerate(got):
                overlap = box.iou(other)
                if overlap > best and index not in used:
                    best, best_index = overlap, index
            iou_sum += best
            if best >= 0.5:
                matched += 1
                used.add(best_index)
                agree += int(got[best_index][1] == emotion)
        false += len(got) - len(used)
    return {"faces": faces, "matched": matched, "iou_sum": iou_sum, "agree": agree, "false": false}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, nargs="+", default=[1, 2, 3, 4, 6])
    parser.add_argument("--side-px", type=int, nargs="+", default=[320, 256])
    parser.add_argument("--min-face-px", type=int, default=RecognizerOptions.min_face_px)
    parser.add_argument("--detector", default=RecognizerOptions.detector)
    parser.add_argument("--runs", type=int, default=2, help="speed runs per candidate (median shown)")
    parser.add_argument("--media", type=Path, default=MEDIA)
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    clips = [args.media / name for name in CLIPS]
    reference_rec = Recognizer(RecognizerOptions.from_flat(detector=args.detector, detector_max_side_px=640,
                                                 min_face_px=args.min_face_px, detect_every=1, min_hits=1))  # fmt: skip
    reference = {clip.name: frames_of(reference_rec, clip)[0] for clip in clips}
    print(f"detector {args.detector}; "
          f"reference: 640 px, every frame; min face {args.min_face_px} px; load average at the start: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    header = ["detect every", "detector side px", "recall", "mean IoU", "label agreement", "false faces",
              "fps (JSONL)", "fps runs", "CPU ms/frame"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for side_px in args.side_px:
        for every in args.every:
            options = RecognizerOptions.from_flat(detector=args.detector, detector_max_side_px=side_px,
                                        min_face_px=args.min_face_px, detect_every=every)  # fmt: skip
            recognizer = Recognizer(options)
            total = dict.fromkeys(("faces", "matched", "iou_sum", "agree", "false"), 0.0)
            speeds, cpu = [], []
            for clip in clips:
                got, fps, cpu_ms = frames_of(recognizer, clip)
                if clip.name == SPEED_CLIP:
                    speeds.append(fps)
                    cpu.append(cpu_ms)
                for key, value in score(reference[clip.name], got).items():
                    total[key] += value
            for _ in range(args.runs - 1):
                _, fps, cpu_ms = frames_of(recognizer, args.media / SPEED_CLIP)
                speeds.append(fps)
                cpu.append(cpu_ms)
            cells = [str(every), str(side_px), f"{total['matched'] / total['faces']:.2%}",
                     f"{total['iou_sum'] / total['faces']:.3f}", f"{total['agree'] / max(total['matched'], 1):.2%}",
                     f"{total['false']:.0f}", f"{statistics.median(speeds):.1f}",
                     " / ".join(f"{s:.0f}" for s in speeds), f"{statistics.median(cpu):.2f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
