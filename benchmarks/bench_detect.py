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

--min-face-grid prints, instead, how the smallest face size (`--min-face-px`, RecognizerOptions.min_face_px)
trades recall and false faces against time: each detector at each size, with the other detection defaults
(RecognizerOptions: the 320 px detector side, the CNN's min_score), on the photos and clips above and on
composites that also hold 24 and 32 px faces; ms per 640x360 frame of WolfgangLanger_Pexels.mp4
and of the same frames scaled to 1280x720 (where the smallest face size sets how far a frame shrinks).
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    names = ["haar", "cnn"]
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
    if "cnn" in names:
        print_thread_cost(timing_frames)


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


def print_thread_cost(frames: list[np.ndarray]) -> None:
    """The CNN's own call with OpenMP held to one thread (as the detector runs it) and left to OpenMP's default."""
    import yuface
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()

    def timed(held: bool) -> float:
        t0 = time.perf_counter()
        for frame in frames:
            if held:
                with controller.limit(limits=1, user_api="openmp"):
                    yuface.c_detect(frame)
            else:
                yuface.c_detect(frame)
        return (time.perf_counter() - t0) * 1000 / len(frames)

    held = statistics.median(timed(True) for _ in range(3))
    free = statistics.median(timed(False) for _ in range(3))
    print(f"\nyuface at 640x360: {held:.2f} ms with OpenMP held to one thread, {free:.2f} ms with OpenMP's default")


if __name__ == "__main__":
    main()
