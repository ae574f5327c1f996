"""Measure how FER2013 frames a face relative to the Haar detector's box, to choose the crop margin.

Each FER2013 image (48x48, the whole image is the data set's "face crop") is upscaled, padded by repeating its
edges (so that a Haar box may reach past the original frame), and run through HaarFaceDetector. The margin that
turns the Haar box back into the original frame is (48 / box_side - 1) / 2 per side.

    python benchmarks/measure_crop_margin.py [../shared/data/fer2013/fer2013.csv.xz] [--rows 500]
"""

from __future__ import annotations

import argparse
import lzma
from pathlib import Path

import cv2
import numpy as np

from emolens.runtime.detectors import HaarFaceDetector

UPSCALE = 4
PAD_PX = 24 * UPSCALE


def public_test_images(path: Path, rows: int) -> list[np.ndarray]:
    images = []
    with lzma.open(path, "rt") as lines:
        next(lines)
        for line in lines:
            _, pixels, usage = line.rstrip("\n").split(",")
            if usage == "PublicTest":
                images.append(np.array(pixels.split(), dtype=np.uint8).reshape(48, 48))
                if len(images) == rows:
                    break
    return images


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013" / "fer2013.csv.xz"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="?", type=Path, default=default)
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    detector = HaarFaceDetector(min_face_px=24 * UPSCALE)
    images = public_test_images(args.csv, args.rows)
    sides, dx, dy = [], [], []
    for image in images:
        big = cv2.resize(image, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, PAD_PX, PAD_PX, PAD_PX, PAD_PX, cv2.BORDER_REPLICATE)
        found = detector.detect(big)
        if not found:
            continue
        box = max((d.box for d in found), key=lambda b: b.area)
        side = (box.width + box.height) / 2 / UPSCALE  # in the original 48-pixel frame
        sides.append(side)
        # Offset of the frame's centre from the box centre, as a fraction of the box side.
        dx.append((24 - ((box.x1 + box.x2) / 2 - PAD_PX) / UPSCALE) / side)
        dy.append((24 - ((box.y1 + box.y2) / 2 - PAD_PX) / UPSCALE) / side)
    side_arr = np.array(sides)
    margins = (48.0 / side_arr - 1.0) / 2.0
    q = np.percentile
    print(f"images: {len(images)} PublicTest rows, Haar found a face in {len(sides)} ({len(sides) / len(images):.0%})")
    print("| quantity | median | 25% | 75% |")
    print("|---|---|---|---|")
    print(f"| Haar box side, px of 48 | {q(side_arr, 50):.1f} | {q(side_arr, 25):.1f} | {q(side_arr, 75):.1f} |")
    print(f"| margin per side, x box side | {q(margins, 50):.3f} | {q(margins, 25):.3f} | {q(margins, 75):.3f} |")
    print(f"| frame centre - box centre, x, x box side | {q(dx, 50):+.3f} | {q(dx, 25):+.3f} | {q(dx, 75):+.3f} |")
    print(f"| frame centre - box centre, y, x box side | {q(dy, 50):+.3f} | {q(dy, 25):+.3f} | {q(dy, 75):+.3f} |")


if __name__ == "__main__":
    main()
