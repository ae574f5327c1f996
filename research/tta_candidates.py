"""PublicTest accuracy of each network under three sets of test-time views (crop TTA), and of named ensembles.

    python research/tta_candidates.py DATA NAME=CHECKPOINT [NAME=CHECKPOINT ...] [--ensemble NAME+NAME ...]

The view sets, each averaging the networks' probabilities over its views:
- mirror (2 passes): the face and its mirror image, what the shipped models do;
- mirror + shifts (10 passes): also the face moved 2 px left, right, up and down, each with its mirror
  (the ten-crop test-time augmentation of the published VGG results, on the whole 48 px face);
- mirror + zooms (6 passes): also the face zoomed in and out by 8% about its centre, each with its mirror.
A selection tool: it reads PublicTest only, never PrivateTest.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from emolens.data import load_data
from emolens.evaluate import predict_probs

SHIFT_PX = 2
ZOOMS = (1.08, 0.92)


def warp(images: np.ndarray, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """(N, 48, 48) uint8 faces zoomed about their centre and moved, borders repeated, as the jitter evaluation does."""
    h, w = images.shape[1:]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 0.0, scale)
    m[:, 2] += (dx, dy)
    return np.stack([cv2.warpAffine(im, m, (w, h), borderMode=cv2.BORDER_REPLICATE) for im in images])


def views_of(images: np.ndarray) -> dict[str, np.ndarray]:
    """Every view that a set uses, by name; each comes with its mirror image, named with a trailing "~"."""
    views = {"face": images}
    for dx, dy in ((SHIFT_PX, 0), (-SHIFT_PX, 0), (0, SHIFT_PX), (0, -SHIFT_PX)):
        views[f"shift {dx:+d},{dy:+d} px"] = warp(images, dx=dx, dy=dy)
    for scale in ZOOMS:
        views[f"zoom {scale}"] = warp(images, scale=scale)
    views.update({name + "~": v[:, :, ::-1].copy() for name, v in views.items()})
    return views


def view_sets(names: list[str]) -> dict[str, list[str]]:
    def face_and(prefix: str) -> list[str]:  # the face, the views named with `prefix`, and their mirrors
        return [n for n in names if n.rstrip("~") == "face" or (prefix and n.startswith(prefix))]

    return {"mirror": face_and(""), "mirror + shifts": face_and("shift"), "mirror + zooms": face_and("zoom")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("networks", nargs="+", metavar="NAME=CHECKPOINT")
    parser.add_argument("--ensemble", action="append", default=[], metavar="NAME+NAME")
    args = parser.parse_args()
    if any("=" not in arg for arg in args.networks):
        parser.error("each network is NAME=CHECKPOINT")
    networks = dict(arg.split("=", 1) for arg in args.networks)
    ensembles = [group.split("+") for group in args.ensemble]
    for group in ensembles:
        if unknown := [name for name in group if name not in networks]:
            parser.error(f"--ensemble names {', '.join(unknown)}, not among the networks")

    val = load_data(args.data).split("PublicTest")
    views = views_of(val.images)
    sets = view_sets(list(views))
    probs = {name: {v: predict_probs(path, views[v], threads=2) for v in views} for name, path in networks.items()}

    def accuracy(group: list[str], view_names: list[str]) -> str:
        p = sum(probs[name][v] for name in group for v in view_names)
        return f"{100 * float((p.argmax(1) == val.labels).mean()):.2f}"

    names = list(sets)
    print(f"PublicTest, {len(val)} faces; passes per face: 1, then {', '.join(str(len(sets[n])) for n in names)}\n")
    print(f"| network(s) | one view | {' | '.join(names)} |\n|---|---|{'---|' * len(names)}")
    for group in [[name] for name in networks] + ensembles:
        cells = [accuracy(group, ["face"])] + [accuracy(group, sets[n]) for n in names]
        print(f"| {' + '.join(group)} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
