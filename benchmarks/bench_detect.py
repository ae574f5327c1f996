"""Face detection benchmark: recall and false faces per detector, Haar and CNN side by side, and ms per frame.

Three kinds of input, all built here from ../shared/media (nothing is written to disk):
- the project's photos, with the faces a person counts (multi_face.jpg: five, one of them in sunglasses), and
  multi_face.jpg re-encoded at JPEG quality 92 and 75, shrunk to half and mirrored;
- video frames (every 4th): single_face.mp4 and WolfgangLanger_Pexels.mp4 hold one face in every frame,
  no_face.mp4 none;
- composites: 640x360 frames of no_face.mp4 (a scene with no face) with one to three faces from the photos pasted in, at
  face sides of 40 to 160 px and turned in the image plane by -30 to +30 degrees, plus the bare frames.

On photos and video a detector is scored by count (found = min(detections, faces), false = the surplus); on the
composites each pasted face has a box, and a detection matches it when its centre lies inside that box and its
side is within a factor of two of it. Unmatched detections are false faces.

    python benchmarks/bench_detect.py [--media ../shared/media] [--seed 0]
    python benchmarks/bench_detect.py --min-face-grid [24 32 40 48 64]
    python benchmarks/bench_detect.py --speed       # the CNN: ONNX against yuface, interleaved CPU ms per frame
    python benchmarks/bench_detect.py --variants    # onnxruntime optimisation levels and int8 copies (needs onnx)

--min-face-grid prints, instead, how the smallest face size (`--min-face-px`, RecognizerOptions.min_face_px)
trades recall and false faces against time: each detector at each size, with the other detection defaults
(RecognizerOptions: the 320 px detector side, the CNN's min_score), on the photos and clips above and on
composites that also hold 24 and 32 px faces; ms per 640x360 frame of WolfgangLanger_Pexels.mp4
and of the same frames scaled to 1280x720 (where the smallest face size sets how far a frame shrinks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emolens.api import RecognizerOptions
from emolens.runtime.detectors import FaceDetector, make_detector
from emolens.types import Box

DEFAULT_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
PHOTOS = {"single_face.jpg": 1, "astronaut.png": 1, "obama.jpg": 1, "biden.jpg": 1, "multi_face.jpg": 5}
VIDEOS = {"single_face.mp4": 1, "WolfgangLanger_Pexels.mp4": 1, "no_face.mp4": 0}
FACE_SIDES_PX = (40, 56, 80, 112, 160)  # from the default --min-face-px up
GRID_FACE_SIDES_PX = (24, 32, *FACE_SIDES_PX)  # --min-face-grid: also faces below the default
DEFAULT_GRID_PX = (24, 32, 40, 48, 64)
ANGLES_DEG = (-30, -15, 0, 15, 30)
FRAME_SIZE_PX = (640, 360)
#: The detector side of the accuracy tables and the first timing column (the tool's default is 320: see
#: DEFAULT_DETECT_SIDE_PX); the second column and --min-face-grid run at RecognizerOptions' defaults.
WIDE_SIDE_PX = 640


@dataclass
class Score:
    faces: int = 0
    found: int = 0
    false: int = 0
    frames: int = 0

    def add(self, faces: int, found: int, false: int) -> None:
        self.faces, self.found, self.false, self.frames = (
            self.faces + faces, self.found + found, self.false + false, self.frames + 1)  # fmt: skip

    def cell(self) -> str:
        recall = f"{self.found / self.faces:.1%}" if self.faces else "-"
        return f"{recall} ({self.found}/{self.faces}), {self.false} false"


@dataclass
class Table:
    rows: dict[str, dict[str, Score]] = field(default_factory=dict)

    def score(self, row: str, detector: str) -> Score:
        return self.rows.setdefault(row, {}).setdefault(detector, Score())


def photo_variants(media: Path) -> Iterator[tuple[str, np.ndarray, int]]:
    for name, faces in PHOTOS.items():
        image = cv2.imread(str(media / name))
        yield f"photo: {name}", image, faces
    group = cv2.imread(str(media / "multi_face.jpg"))
    for quality in (92, 75):
        _, data = cv2.imencode(".jpg", group, [cv2.IMWRITE_JPEG_QUALITY, quality])
        yield f"multi_face.jpg, JPEG quality {quality}", cv2.imdecode(data, cv2.IMREAD_COLOR), 5
    yield "multi_face.jpg, half size", cv2.resize(group, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 5
    yield "multi_face.jpg, mirrored", np.ascontiguousarray(group[:, ::-1]), 5


def video_frames(path: Path, step: int = 4) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


def face_bank(media: Path, detectors: dict[str, FaceDetector]) -> list[tuple[np.ndarray, float]]:
    """Head-and-shoulders patches of every face in the photos, each with its face side in the patch's pixels. The
    face's box is the mean of both detectors' boxes on the original photo (each finds all nine there)."""
    bank = []
    for name in PHOTOS:
        image = cv2.imread(str(media / name))
        per_detector = [sorted((d.box for d in det.detect(image)), key=lambda b: b.x1) for det in detectors.values()]
        for boxes in zip(*per_detector, strict=False):
            cx = statistics.mean((b.x1 + b.x2) / 2 for b in boxes)
            cy = statistics.mean((b.y1 + b.y2) / 2 for b in boxes)
            side = statistics.mean(max(b.width, b.height) for b in boxes)
            half = round(side * 1.1)  # the patch: the face and a margin of context, as a person pasted would have
            x1, y1 = round(cx) - half, round(cy) - half
            patch = cv2.copyMakeBorder(image, half, half, half, half, cv2.BORDER_REFLECT)
            bank.append((patch[y1 + half : y1 + 3 * half, x1 + half : x1 + 3 * half].copy(), side))
    return bank


def paste(
    background: np.ndarray, patch: np.ndarray, face_side: float, side_px: int, angle_deg: float, centre: tuple[int, int]
) -> Box:
    """Paste `patch` (its face `face_side` px) so that the face is `side_px`, turned by `angle_deg`, at `centre`;
    an elliptical feathered mask hides the patch's edge. Returns the face's box in the background."""
    scale = side_px / face_side
    h, w = patch.shape[:2]
    out_side = int(np.ceil(max(h, w) * scale * 1.5))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    m[:, 2] += (out_side / 2 - w / 2, out_side / 2 - h / 2)
    warped = cv2.warpAffine(patch, m, (out_side, out_side), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    mask = np.zeros((out_side, out_side), np.float32)
    # The face and a little around it: a wider mask would bring in parts of a neighbour's face (multi_face.jpg).
    axes = (round(side_px * 0.75), round(side_px * 0.9))
    cv2.ellipse(mask, (out_side // 2, out_side // 2), axes, -angle_deg, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, side_px * 0.06))[:, :, None]
    x0, y0 = centre[0] - out_side // 2, centre[1] - out_side // 2
    bh, bw = background.shape[:2]
    sx1, sy1, sx2, sy2 = max(0, -x0), max(0, -y0), min(out_side, bw - x0), min(out_side, bh - y0)
    region = background[y0 + sy1 : y0 + sy2, x0 + sx1 : x0 + sx2].astype(np.float32)
    blend = mask[sy1:sy2, sx1:sx2] * warped[sy1:sy2, sx1:sx2] + (1 - mask[sy1:sy2, sx1:sx2]) * region
    background[y0 + sy1 : y0 + sy2, x0 + sx1 : x0 + sx2] = blend.astype(np.uint8)
    half = side_px / 2
    return Box(round(centre[0] - half), round(centre[1] - half), round(centre[0] + half), round(centre[1] + half))


def composites(
    backgrounds: list[np.ndarray],
    bank: list[tuple[np.ndarray, float]],
    seed: int,
    sides_px: tuple[int, ...] = FACE_SIDES_PX,
) -> Iterator[tuple[str, np.ndarray, list[Box]]]:
    rng = np.random.default_rng(seed)
    width_px, height_px = FRAME_SIZE_PX
    for side_px in sides_px:
        for angle in ANGLES_DEG:
            slots = max(1, min(3, int(width_px // (2.2 * side_px))))  # neighbours >= 2.2 face sides apart
            slot_w = width_px // slots
            for _ in range(4):
                frame = backgrounds[int(rng.integers(len(backgrounds)))].copy()
                boxes: list[Box] = []
                for slot in range(slots):
                    patch, face_side = bank[int(rng.integers(len(bank)))]
                    if rng.random() < 0.5:
                        patch = np.ascontiguousarray(patch[:, ::-1])
                    low, high = slot * slot_w + int(1.1 * side_px), (slot + 1) * slot_w - int(1.1 * side_px)
                    cx = int(rng.integers(low, high + 1)) if high > low else slot * slot_w + slot_w // 2
                    margin_y = min(int(side_px * 0.8), height_px // 2)
                    cy = int(rng.integers(margin_y, height_px - margin_y + 1))
                    boxes.append(paste(frame, patch, face_side, side_px, angle, (cx, cy)))
                yield f"{side_px} px, {angle:+d} deg", frame, boxes
    for background in backgrounds:
        yield "bare", background, []


def match(detected: list[Box], truth: list[Box]) -> tuple[int, int]:
    """(faces found, false faces): a detection matches an unmatched true box holding its centre, side within 2x."""
    unmatched = list(truth)
    found = 0
    for box in detected:
        cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
        for t in unmatched:
            ratio = max(box.width, box.height) / max(t.width, 1)
            if t.x1 <= cx <= t.x2 and t.y1 <= cy <= t.y2 and 0.5 <= ratio <= 2.0:
                unmatched.remove(t)
                found += 1
                break
    return found, len(detected) - found


def ms_per_frame(
    detector: FaceDetector, frames: list[np.ndarray], repeats: int = 3, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median over `repeats` passes of the mean ms per frame, by `clock`: the wall clock, or `time.process_time`
    (the process's CPU, all its threads), on a shared machine the steadier measure of cost."""
    passes = []
    for _ in range(repeats):
        t0 = clock()
        for frame in frames:
            detector.detect(frame)
        passes.append((clock() - t0) * 1000 / len(frames))
    return statistics.median(passes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-score", type=float, nargs="*", default=[], help="extra CNN rows at these scores")
    parser.add_argument(
        "--min-face-grid",
        type=int,
        nargs="*",
        metavar="PX",
        help=f"print the smallest-face-size grid instead (default sizes {' '.join(map(str, DEFAULT_GRID_PX))})",
    )
    parser.add_argument("--speed", action="store_true", help="only the ONNX-against-yuface timing")
    parser.add_argument("--variants", action="store_true", help="only the optimisation-level and int8 timing")
    args = parser.parse_args()
    names = ["haar", "cnn"]
    if args.speed or args.variants:
        frames = video_frames(args.media / "WolfgangLanger_Pexels.mp4")[:40]
        if args.speed:
            print_onnx_against_yuface(frames)
        if args.variants:
            print_variants(frames)
        return
    if args.min_face_grid is not None:
        min_face_grid(args.media, names, tuple(args.min_face_grid) or DEFAULT_GRID_PX, args.seed)
        return
    detectors = {name: make_detector(name, max_side_px=WIDE_SIDE_PX) for name in names}
    for score in args.min_score:
        detectors[f"cnn >= {score}"] = make_detector("cnn", max_side_px=WIDE_SIDE_PX, min_score=score)
    table = Table()

    for title, image, faces in photo_variants(args.media):
        for name, detector in detectors.items():
            n = len(detector.detect(image))
            table.score(title, name).add(faces, min(n, faces), max(0, n - faces))
    video_cache = {}
    for video, faces in VIDEOS.items():
        video_cache[video] = video_frames(args.media / video)
        for frame in video_cache[video]:
            for name, detector in detectors.items():
                n = len(detector.detect(frame))
                table.score(f"video: {video} (every 4th frame)", name).add(faces, min(n, faces), max(0, n - faces))
    backgrounds = [cv2.resize(f, FRAME_SIZE_PX, interpolation=cv2.INTER_AREA) for f in video_cache["no_face.mp4"]]
    backgrounds = backgrounds[:: max(1, len(backgrounds) // 8)]
    bank = face_bank(args.media, {n: detectors[n] for n in names})
    composite_rows = ["composites: all"]
    composite_rows += [f"composites: face {side} px" for side in FACE_SIDES_PX]
    composite_rows += [f"composites: turned {angle:+d} deg" for angle in ANGLES_DEG]
    composite_rows += ["composites: bare scenes, no face"]
    for row in composite_rows:  # the table's order
        for name in detectors:
            table.score(row, name)
    for title, frame, truth in composites(backgrounds, bank, args.seed):
        if title == "bare":
            rows = ["composites: bare scenes, no face"]
        else:
            side, _, angle = title.partition(", ")
            rows = ["composites: all", f"composites: face {side}", f"composites: turned {angle}"]
        for name, detector in detectors.items():
            found, false = match([d.box for d in detector.detect(frame)], truth)
            for row in rows:
                table.score(row, name).add(len(truth), found, false)

    print(f"recall (faces found / faces) and false faces; {len(bank)} faces in the bank, seed {args.seed}\n")
    print("| input | frames | " + " | ".join(detectors) + " |")
    print("|---|---|" + "---|" * len(detectors))
    for row, scores in table.rows.items():
        if not any(score.frames for score in scores.values()):
            continue
        print(
            f"| {row} | {next(iter(scores.values())).frames} | " + " | ".join(s.cell() for s in scores.values()) + " |"
        )

    timing_frames = video_cache["WolfgangLanger_Pexels.mp4"][:40]
    print(f"\nms per 640x360 frame ({len(timing_frames)} frames of WolfgangLanger_Pexels.mp4, median of 3 passes):\n")
    print("| detector | detector side 640 px | 320 px (--detector-side-px 320 --min-face-px 80) |")
    print("|---|---|---|")
    for name in names:
        full = ms_per_frame(make_detector(name, max_side_px=WIDE_SIDE_PX), timing_frames)
        half = ms_per_frame(make_detector(name, min_face_px=80, max_side_px=320), timing_frames)
        print(f"| {name} | {full:.2f} | {half:.2f} |")
    print_onnx_against_yuface(timing_frames)


def min_face_grid(media: Path, names: list[str], sizes_px: tuple[int, ...], seed: int) -> None:
    """Each detector at each smallest face size, the other detection settings at RecognizerOptions' defaults:
    recall and false faces on the photos, the clips and the composites (by face side), and ms per frame."""
    defaults = RecognizerOptions()
    photos = list(photo_variants(media))
    clips = {video: video_frames(media / video) for video in VIDEOS}
    backgrounds = [cv2.resize(f, FRAME_SIZE_PX, interpolation=cv2.INTER_AREA) for f in clips["no_face.mp4"]]
    backgrounds = backgrounds[:: max(1, len(backgrounds) // 8)]
    bank = face_bank(media, {name: make_detector(name, max_side_px=WIDE_SIDE_PX) for name in names})
    scenes = list(composites(backgrounds, bank, seed, GRID_FACE_SIDES_PX))
    timing_frames = clips["WolfgangLanger_Pexels.mp4"][:40]
    # The same frames at 1280x720: there the smallest face size, not the detector side, sets how far a frame shrinks.
    hd_frames = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_LINEAR) for f in timing_frames]
    height_px, width_px = FRAME_SIZE_PX[1], FRAME_SIZE_PX[0]
    print(
        f"smallest face size grid: detector side {defaults.detector_max_side_px} px, CNN min_score "
        f"{defaults.min_score} (RecognizerOptions' defaults); {len(bank)} faces in the bank, seed {seed}; "
        f"composites: {len(scenes)} frames of {width_px}x{height_px}; ms: {len(timing_frames)} frames of "
        "WolfgangLanger_Pexels.mp4 (640x360, and scaled to 1280x720), the process's CPU ms (all threads), median of "
        "5 passes\n"
    )
    sides = " | ".join(f"{side} px" for side in GRID_FACE_SIDES_PX)
    print(
        f"| detector | min face px | side seen px | photos | clips | composites: {sides} | false faces "
        "| CPU ms/frame | side seen px, 1280x720 | CPU ms/frame, 1280x720 |"
    )
    print("|---|---|---|---|---|" + "---|" * len(GRID_FACE_SIDES_PX) + "---|---|---|---|")
    for name in names:
        for size_px in sizes_px:
            detector = make_detector(
                name, min_face_px=size_px, max_side_px=defaults.detector_max_side_px, min_score=defaults.min_score
            )
            photo, clip = Score(), Score()
            for _, image, faces in photos:
                n = len(detector.detect(image))
                photo.add(faces, min(n, faces), max(0, n - faces))
            for video, frames in clips.items():
                for frame in frames:
                    n = len(detector.detect(frame))
                    clip.add(VIDEOS[video], min(n, VIDEOS[video]), max(0, n - VIDEOS[video]))
            by_side = {side: Score() for side in GRID_FACE_SIDES_PX}
            false = 0
            for title, frame, truth in scenes:
                found, extra = match([d.box for d in detector.detect(frame)], truth)
                false += extra
                if title != "bare":
                    by_side[int(title.partition(" px")[0])].add(len(truth), found, 0)
            seen_px = _side_seen_px(name, size_px, defaults.detector_max_side_px, FRAME_SIZE_PX)
            hd_seen_px = _side_seen_px(name, size_px, defaults.detector_max_side_px, (1280, 720))
            recalls = " | ".join(f"{s.found / s.faces:.0%}" for s in by_side.values())
            ms, hd_ms = (
                ms_per_frame(detector, f, repeats=5, clock=time.process_time) for f in (timing_frames, hd_frames)
            )
            print(
                f"| {name} | {size_px} | {seen_px} | {photo.found}/{photo.faces}, {photo.false} false | "
                f"{clip.found}/{clip.faces}, {clip.false} false | {recalls} | {false} | {ms:.2f} | {hd_seen_px} "
                f"| {hd_ms:.2f} |"
            )


def _side_seen_px(name: str, min_face_px: int, max_side_px: int, size_px: tuple[int, int]) -> int:
    """The longest side of a frame of `size_px` (width, height) once shrunk for this detector (detection_scale)."""
    from emolens.runtime.detectors import cnn, haar
    from emolens.runtime.detectors.base import detection_scale

    smallest = cnn.CNN_SMALLEST_FACE_PX if name == "cnn" else haar._HAAR_WINDOW_PX
    width_px, height_px = size_px
    return round(width_px * detection_scale(height_px, width_px, max_side_px, min_face_px, smallest))


def _load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def print_onnx_against_yuface(frames: list[np.ndarray], rounds: int = 9) -> None:
    """The CNN's detect() as emolens runs it (the ONNX file on onnxruntime) against the same detector on yuface's
    compiled library (benchmarks/yuface_reference.py), interleaved pass by pass, as the process's CPU ms per frame,
    at RecognizerOptions' detector side and at 640 px."""
    from yuface_reference import YufaceDetector, yuface_available

    defaults = RecognizerOptions()
    have_yuface = yuface_available()
    print(f"\nCNN: ONNX file on onnxruntime against yuface's library, {len(frames)} frames of "
          f"WolfgangLanger_Pexels.mp4 (640x360), CPU ms per frame (the process's, all threads), {rounds} interleaved "
          f"passes each; load average {_load_average()} at the start")  # fmt: skip
    if not have_yuface:
        print(
            "(yuface is not installed here: ONNX only; pip install yuface==2023.5.1 threadpoolctl on CPython 3.10/3.11)"
        )
    print(
        "\n| detector side px | ONNX median (min-max) | yuface median (min-max) "
        "| ONNX / yuface, median of per-pass ratios |"
    )
    print("|---|---|---|---|")
    for side_px in (defaults.detector_max_side_px, 640):
        settings = {"min_face_px": defaults.min_face_px, "max_side_px": side_px, "min_score": defaults.min_score}
        detectors: dict[str, FaceDetector] = {"onnx": make_detector("cnn", **settings)}
        if have_yuface:
            detectors["yuface"] = YufaceDetector(**settings)
        times: dict[str, list[float]] = {name: [] for name in detectors}
        for index in range(rounds):
            for name in list(detectors)[:: 1 if index % 2 == 0 else -1]:  # alternate which goes first
                times[name].append(ms_per_frame(detectors[name], frames, repeats=1, clock=time.process_time))
        cells = [f"{statistics.median(t):.2f} ({min(t):.2f}-{max(t):.2f})" for t in times.values()]
        if have_yuface:
            ratio = statistics.median(a / b for a, b in zip(times["onnx"], times["yuface"], strict=True))
            print(f"| {side_px} | {cells[0]} | {cells[1]} | {ratio:.2f} |")
        else:
            print(f"| {side_px} | {cells[0]} | - | - |")
    print(f"\nload average at the end: {_load_average()}")


def print_variants(frames: list[np.ndarray], rounds: int = 7) -> None:
    """The network alone (one onnxruntime call per frame, one thread) at each graph optimisation level, and int8
    copies (dynamic, and static QDQ calibrated on 20 of the frames), against the float32 file as shipped; needs the
    onnx package (onnxruntime.quantization imports it)."""
    import tempfile

    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from emolens.runtime.detectors.cnn import INPUT_NAME, model_file

    defaults = RecognizerOptions()
    height_px, width_px = frames[0].shape[:2]
    scale = defaults.detector_max_side_px / max(height_px, width_px)
    size = (round(width_px * scale), round(height_px * scale))
    planes = [np.ascontiguousarray(cv2.resize(f, size, interpolation=cv2.INTER_AREA).transpose(2, 0, 1),
                                   dtype=np.float32)[None] for f in frames]  # fmt: skip

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter([{INPUT_NAME: p} for p in planes[:20]])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    levels = {
        "float32, optimisation off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "float32, basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "float32, extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "float32, all (onnxruntime's default: shipped)": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    with tempfile.TemporaryDirectory() as tmp:
        prepared, dynamic, static = (str(Path(tmp) / n) for n in ("prepared.onnx", "dynamic.onnx", "static.onnx"))
        quant_pre_process(str(model_file()), prepared, skip_symbolic_shape=True)
        quantize_dynamic(prepared, dynamic, weight_type=QuantType.QUInt8)
        quantize_static(prepared, static, Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)  # fmt: skip
        files = {name: (str(model_file()), level) for name, level in levels.items()}
        files["int8 dynamic (ConvInteger), all"] = (dynamic, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        files["int8 static QDQ, per channel, all"] = (static, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        sessions = {}
        for name, (path, level) in files.items():
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = level
            sessions[name] = (ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]), Path(path))
        times: dict[str, list[float]] = {name: [] for name in sessions}
        print(f"\nthe network alone on {len(planes)} frames at {size[0]}x{size[1]}, one thread, CPU ms per frame, "
              f"{rounds} interleaved passes; load average {_load_average()}\n")  # fmt: skip
        for index in range(rounds):
            for name in list(sessions)[:: 1 if index % 2 == 0 else -1]:
                session = sessions[name][0]
                t0 = time.process_time()
                for p in planes:
                    session.run(None, {INPUT_NAME: p})
                times[name].append((time.process_time() - t0) * 1000 / len(planes))
        print("| graph | file KB | CPU ms/frame median (min-max) |")
        print("|---|---|---|")
        for name, (_, path) in sessions.items():
            t = times[name]
            print(
                f"| {name} | {path.stat().st_size / 1024:.0f} | "
                f"{statistics.median(t):.2f} ({min(t):.2f}-{max(t):.2f}) |"
            )
    print(f"\nload average at the end: {_load_average()}")


if __name__ == "__main__":
    main()
