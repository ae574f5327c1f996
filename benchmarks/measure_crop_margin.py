"""Measure how FER2013 frames a face relative to a detector's box, to choose that detector's crop mapping; then
check, on PublicTest, that the classifier is as accurate on each detector's crops as on FER2013's own frames.

Each FER2013 image (48x48: the whole image is the data set's face crop) is upscaled, padded by repeating its
edges (so that a box may reach past the original frame), and run through the detector. FER2013's frame relative to
the box (longer side) gives the mapping: side_scale = 48 / box side, shift = (frame centre - box centre) / box side.

With --accuracy, the same images are also shifted, zoomed and rotated as evaluate.py's jitter protocol does
(`emolens eval --jitter`: shift, scale and rotation drawn per image, seed 0) before detection: the detector must find
the face again and its mapped crop must frame it as FER2013 did. Accuracy is reported on the faces both detectors
found, for the FER2013 frame (as is, or jittered: what a crop that ignored the detector would give) and for each
detector's mapped crop.

    python benchmarks/measure_crop_margin.py --detector haar --rows 600
    python benchmarks/measure_crop_margin.py --detector cnn --rows 600
    python benchmarks/measure_crop_margin.py --accuracy [--rows 3589] [--yuface]

`--detector yuface` measures, and `--yuface` adds to the accuracy table, the CNN on yuface's compiled library as
emolens ran it before its ONNX file (benchmarks/yuface_reference.py; needs yuface installed).
"""

from __future__ import annotations

import argparse
import lzma
from pathlib import Path

import cv2
import numpy as np

from emolens.evaluate import jitter_images
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import FaceDetector, crop_face, make_detector
from emolens.runtime.registry import model_path
from emolens.types import Detection

UPSCALE = 4
PAD_PX = 24 * UPSCALE


def public_test(path: Path, rows: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with lzma.open(path, "rt") as lines:
        next(lines)
        for line in lines:
            label, pixels, usage = line.rstrip("\n").split(",")
            if usage == "PublicTest":
                images.append(np.array(pixels.split(), dtype=np.uint8).reshape(48, 48))
                labels.append(int(label))
                if len(images) == rows:
                    break
    return np.stack(images), np.array(labels)


def enlarge(image: np.ndarray) -> np.ndarray:
    big = cv2.resize(image, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(big, PAD_PX, PAD_PX, PAD_PX, PAD_PX, cv2.BORDER_REPLICATE)


def largest_face(detector: FaceDetector, big: np.ndarray) -> Detection | None:
    found = detector.detect(big)
    return max(found, key=lambda d: d.box.area) if found else None


def box_offsets(detector: FaceDetector, images: np.ndarray) -> np.ndarray:
    """(N, 3) rows of side_scale, shift_x, shift_y for the images where the detector finds a face."""
    rows = []
    for image in images:
        face = largest_face(detector, enlarge(image))
        if face is None:
            continue
        box = face.box
        side = max(box.width, box.height) / UPSCALE  # in the original 48-pixel frame
        rows.append(
            (
                48.0 / side,
                (24 - ((box.x1 + box.x2) / 2 - PAD_PX) / UPSCALE) / side,
                (24 - ((box.y1 + box.y2) / 2 - PAD_PX) / UPSCALE) / side,
            )
        )
    return np.array(rows).reshape(-1, 3)


def measure(detector: FaceDetector, images: np.ndarray) -> None:
    offsets = box_offsets(detector, images)
    scale, dx, dy = offsets.T
    found = len(offsets)
    q = np.percentile
    print(f"{detector.name}: {len(images)} PublicTest rows, a face found in {found} ({found / len(images):.0%})")
    print("| quantity | median | 25% | 75% |")
    print("|---|---|---|---|")
    side = 48.0 / scale
    print(f"| box side (longer), px of 48 | {q(side, 50):.1f} | {q(side, 25):.1f} | {q(side, 75):.1f} |")
    print(f"| side_scale: frame side / box side | {q(scale, 50):.3f} | {q(scale, 25):.3f} | {q(scale, 75):.3f} |")
    print(f"| shift_x: (frame - box centre) / box side | {q(dx, 50):+.3f} | {q(dx, 25):+.3f} | {q(dx, 75):+.3f} |")
    print(f"| shift_y: (frame - box centre) / box side | {q(dy, 50):+.3f} | {q(dy, 25):+.3f} | {q(dy, 75):+.3f} |")
    print(f"CropMapping(side_scale={q(scale, 50):.3f}, shift_x={q(dx, 50):+.3f}, shift_y={q(dy, 50):+.3f})")
    rolls = eye_rolls_deg(detector, images)
    if len(rolls):
        print(
            f"eye-line roll, degrees (landmarks, {len(rolls)} faces): median {q(rolls, 50):+.1f}, "
            f"25% {q(rolls, 25):+.1f}, 75% {q(rolls, 75):+.1f}, |roll| > 10: {np.mean(np.abs(rolls) > 10):.0%}"
        )


def eye_rolls_deg(detector: FaceDetector, images: np.ndarray) -> np.ndarray:
    """The angle of the line through the eyes, for detectors that give landmarks: how far FER2013's faces are
    from roll-aligned (0 everywhere would mean aligned)."""
    rolls = []
    for image in images:
        face = largest_face(detector, enlarge(image))
        if face is not None and face.landmarks is not None:
            (lx, ly), (rx, ry) = face.landmarks[:2]
            rolls.append(np.degrees(np.arctan2(ry - ly, rx - lx)))
    return np.array(rolls)


def accuracy(images: np.ndarray, labels: np.ndarray, detectors: dict[str, FaceDetector], model: str) -> None:
    classifier = EmotionClassifier(model_path(model))
    print(f"accuracy of `{model}` on {len(images)} PublicTest faces (faces every detector found):")
    names = [*detectors, "cnn, roll-aligned"]
    print("| images | found by " + " | found by ".join(detectors) + " | all found | FER2013 frame | " + " | ".join(
        f"{name} crop" for name in names) + " |")  # fmt: skip
    print("|---" * (4 + len(detectors) + len(names) - 1) + "|")
    jittered = jitter_images(images, ("shift", "scale", "rotation"), seed=0)
    for title, batch in (("as in FER2013", images), ("jittered: shift, scale, rotation", jittered)):
        crops: dict[str, list[np.ndarray | None]] = {name: [] for name in [*detectors, "cnn, roll-aligned"]}
        for image in batch:
            big = enlarge(image)
            for name, detector in detectors.items():
                face = largest_face(detector, big)
                crops[name].append(None if face is None else crop_face(big, face, detector.crop))
                if name == "cnn":
                    aligned = None if face is None else roll_aligned_crop(big, face, detector)
                    crops["cnn, roll-aligned"].append(aligned)
        both = [i for i in range(len(batch)) if all(crops[name][i] is not None for name in detectors)]
        truth = labels[both]
        frame_acc = float(np.mean(classifier.predict(list(batch[both])).argmax(1) == truth))
        accs = [float(np.mean(classifier.predict([crops[name][i] for i in both]).argmax(1) == truth)) for name in crops]
        found = [sum(c is not None for c in crops[name]) for name in detectors]
        print(
            f"| {title} | " + " | ".join(str(n) for n in found) + f" | {len(both)} | {frame_acc:.2%} | "
            + " | ".join(f"{a:.2%}" for a in accs) + " |"
        )  # fmt: skip


def roll_aligned_crop(image: np.ndarray, face: Detection, detector: FaceDetector) -> np.ndarray:
    """The mapped crop after turning the image about the face's centre so that its eyes are level."""
    assert face.landmarks is not None
    (lx, ly), (rx, ry) = face.landmarks[:2]
    box = face.box
    centre = ((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2)
    m = cv2.getRotationMatrix2D(centre, float(np.degrees(np.arctan2(ry - ly, rx - lx))), 1.0)
    upright = cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return crop_face(upright, face, detector.crop)


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013" / "fer2013.csv.xz"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="?", type=Path, default=default)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--detector", default="haar", choices=("haar", "cnn", "yuface"), help="whose box to measure")
    parser.add_argument("--accuracy", action="store_true", help="classifier accuracy on each detector's crops")
    parser.add_argument("--yuface", action="store_true", help="--accuracy: also the CNN on yuface's library")
    parser.add_argument("--model", default="fast")
    args = parser.parse_args()
    images, labels = public_test(args.csv, args.rows)
    if args.accuracy:
        # max_side_px 640: the side these margins were measured at (the default became 320 when it was defined once).
        names = ("haar", "cnn", "yuface") if args.yuface else ("haar", "cnn")
        accuracy(images, labels, {name: named_detector(name) for name in names}, args.model)
    else:
        measure(named_detector(args.detector), images)


def named_detector(name: str) -> FaceDetector:
    """A detector for 4x-enlarged FER2013 faces: emolens's by name, or "yuface" (the reference)."""
    if name == "yuface":
        from yuface_reference import YufaceDetector

        return YufaceDetector(min_face_px=24 * UPSCALE, max_side_px=640)
    return make_detector(name, min_face_px=24 * UPSCALE, max_side_px=640)


if __name__ == "__main__":
    main()
