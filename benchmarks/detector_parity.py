"""Parity of the shipped ONNX face detector with libfacedetection as the `yuface` wheel compiled it (the detector
emolens ran before; benchmarks/yuface_reference.py), on the inputs of benchmarks/bench_detect.py: the photos and
their copies, every 4th frame of the clips, and the composite-faces frames. Both run behind the same FaceDetector
code (shrinking, box and landmark mapping) at RecognizerOptions' defaults unless told otherwise.

Per image: whether both report the same number of faces. Per face (each ONNX face paired with the yuface face it
overlaps most): the boxes' IoU, the score difference and the largest distance between corresponding landmarks, in
the image's pixels and in the pixels of the frame the network saw (yuface truncates its coordinates to whole
pixels there, so up to 1 px of that is its rounding, times the shrink factor in the image).

    python benchmarks/detector_parity.py [--media ../shared/media] [--side-px 320] [--min-face-px 40]

Needs yuface (CPython 3.10/3.11 on Linux x86-64): pip install yuface==2023.5.1 threadpoolctl.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect import DEFAULT_MEDIA, FRAME_SIZE_PX, VIDEOS, composites, face_bank, photo_variants, video_frames
from yuface_reference import YufaceDetector

from emolens.api import RecognizerOptions
from emolens.runtime.detectors import make_detector
from emolens.runtime.detectors.cnn import CnnFaceDetector, network_frame
from emolens.types import Detection

#: The clips compared (every 4th frame): bench_detect's, and the one whose face leaves the frame.
CLIPS = (*VIDEOS, "face_noface.mov")


@dataclass
class Tally:
    images: int = 0
    same_count: int = 0
    faces_onnx: int = 0
    faces_yuface: int = 0
    ious: list[float] = field(default_factory=list)
    score_diffs: list[float] = field(default_factory=list)
    landmark_px: list[float] = field(default_factory=list)
    landmark_seen_px: list[float] = field(default_factory=list)
    rows: int = 0
    rows_identical: int = 0
    row_max_diff: int = 0

    def add_rows(self, ours: np.ndarray, theirs: np.ndarray) -> None:
        """The network's own rows (score per cent, x, y, w, h, landmarks) as libfacedetection writes them: ours
        truncated to int as its C++ does (facedetect_cnn), each paired with yuface's row of the nearest box."""
        for row in ours:
            if len(theirs) == 0:
                break
            other = theirs[int(np.argmin(np.abs(theirs[:, 1:5] - row[1:5]).sum(axis=1)))]
            self.rows += 1
            self.rows_identical += bool(np.array_equal(row, other))
            self.row_max_diff = max(self.row_max_diff, int(np.abs(row - other).max()))

    def add(self, ours: list[Detection], theirs: list[Detection], scale: float) -> None:
        self.images += 1
        self.same_count += len(ours) == len(theirs)
        self.faces_onnx += len(ours)
        self.faces_yuface += len(theirs)
        for face in ours:
            if not theirs:
                break
            other = max(theirs, key=lambda t: face.box.iou(t.box))
            if face.box.iou(other.box) == 0:
                continue
            self.ious.append(face.box.iou(other.box))
            assert face.score is not None and other.score is not None
            self.score_diffs.append(abs(face.score - other.score))
            assert face.landmarks is not None and other.landmarks is not None
            worst = max(
                float(np.hypot(a[0] - b[0], a[1] - b[1])) for a, b in zip(face.landmarks, other.landmarks, strict=True)
            )
            self.landmark_px.append(worst)
            self.landmark_seen_px.append(worst * scale)

    def row(self, title: str) -> str:
        if not self.ious:
            return f"| {title} | {self.images} | {self.same_count / self.images:.1%} | 0 / 0 | - | - | - | - | - |"
        rows = f"{self.rows_identical}/{self.rows} ({self.row_max_diff})"
        p95 = float(np.percentile(self.landmark_px, 95))
        return (
            f"| {title} | {self.images} | {self.same_count / self.images:.1%} | {self.faces_onnx} / "
            f"{self.faces_yuface} | {statistics.median(self.ious):.3f} (min {min(self.ious):.3f}) | "
            f"{max(self.score_diffs):.4f} | {statistics.median(self.landmark_px):.2f} / {p95:.2f} / "
            f"{max(self.landmark_px):.2f} | {max(self.landmark_seen_px):.2f} | {rows} |"
        )


def truncated_rows(detector: CnnFaceDetector, bgr: np.ndarray) -> np.ndarray:
    """The ONNX network's faces as libfacedetection's facedetect_cnn stores them: int(score*100), int(x1), int(y1),
    int(x2-x1), int(y2-y1), int() of each landmark coordinate."""
    found = detector.network_faces(bgr)
    boxes = found.boxes
    values = [found.scores * 100, boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]]
    return np.trunc(np.column_stack([*values, found.landmarks.reshape(-1, 10)])).astype(np.int64)


def inputs(media: Path, bank_detectors: dict[str, object], seed: int) -> Iterator[tuple[str, np.ndarray]]:
    """(group, image) for every input compared."""
    for _, image, _ in photo_variants(media):
        yield "photos (5, and 4 copies of multi_face.jpg)", image
    clips = {clip: video_frames(media / clip) for clip in CLIPS}
    for clip, frames in clips.items():
        for frame in frames:
            yield f"clip: {clip} (every 4th frame)", frame
    backgrounds = [cv2.resize(f, FRAME_SIZE_PX, interpolation=cv2.INTER_AREA) for f in clips["no_face.mp4"]]
    backgrounds = backgrounds[:: max(1, len(backgrounds) // 8)]
    bank = face_bank(media, bank_detectors)  # type: ignore[arg-type]
    for _, frame, _ in composites(backgrounds, bank, seed):
        yield "composites (bench_detect.py, seed 0)", frame


def main() -> None:
    defaults = RecognizerOptions()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--side-px", type=int, default=defaults.detector_max_side_px, help="detector side")
    parser.add_argument("--min-face-px", type=int, default=defaults.min_face_px)
    parser.add_argument("--min-score", type=float, default=defaults.min_score)
    args = parser.parse_args()
    settings = {"min_face_px": args.min_face_px, "max_side_px": args.side_px, "min_score": args.min_score}
    onnx = CnnFaceDetector(**settings)
    reference = YufaceDetector(**settings)
    bank_detectors = {"haar": make_detector("haar"), "cnn": make_detector("cnn")}
    tallies: dict[str, Tally] = {}
    total = Tally()
    for group, image in inputs(args.media, bank_detectors, args.seed):
        seen, scale = network_frame(image, args.side_px, args.min_face_px)  # as CnnFaceDetector.detect shrinks it
        ours, theirs = onnx.detect(image), reference.detect(image)
        ours_rows = truncated_rows(onnx, seen)
        theirs_rows = reference.network_rows(seen)[:, :15].astype(np.int64)
        theirs_rows = theirs_rows[theirs_rows[:, 0] >= round(args.min_score * 100)]
        for tally in (tallies.setdefault(group, Tally()), total):
            tally.add(ours, theirs, scale)
            tally.add_rows(ours_rows, theirs_rows)
    print(
        f"ONNX CNN against yuface 2023.5.1: detector side {args.side_px} px, min face {args.min_face_px} px, "
        f"min score {args.min_score}\n"
    )
    print(
        "| input | images | same face count | faces ONNX / yuface | median IoU | max score diff "
        "| landmarks: median / 95% / max px | landmarks: max px in the frame the network saw "
        "| network rows identical after libfacedetection's truncation (largest difference) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for group, tally in tallies.items():
        print(tally.row(group))
    print(total.row("all"))


if __name__ == "__main__":
    main()
