"""Two checkpoints, face by face, on PublicTest with the mirror view: how many faces each gets right that the other
gets wrong, and how many standard errors the difference is (a sign test on those faces).

    python research/compare_networks.py DATA BEFORE=CHECKPOINT AFTER=CHECKPOINT

This is a selection tool: it reads PublicTest only, never PrivateTest.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from emolens.data import load_data
from emolens.evaluate import predict_probs


def sign_test(right_before: np.ndarray, right_after: np.ndarray) -> tuple[int, int, float]:
    """(faces right only after, faces right only before, their difference in standard errors); faces both
    networks get right or wrong carry no evidence either way."""
    only_after = int((right_after & ~right_before).sum())
    only_before = int((right_before & ~right_after).sum())
    changed = only_after + only_before
    return only_after, only_before, (only_after - only_before) / math.sqrt(changed) if changed else 0.0


def main() -> None:
    if len(sys.argv) != 4 or any("=" not in arg for arg in sys.argv[2:]):
        sys.exit(__doc__)
    val = load_data(sys.argv[1]).split("PublicTest")
    (before, before_path), (after, after_path) = (arg.split("=", 1) for arg in sys.argv[2:])
    right = {
        name: predict_probs(path, val.images, tta="flip", threads=2).argmax(1) == val.labels
        for name, path in ((before, before_path), (after, after_path))
    }
    only_after, only_before, z = sign_test(right[before], right[after])
    print(f"PublicTest, {len(val)} faces, with flip\n")
    print(f"| {before} | {after} | right only with {after} / only with {before} | standard errors |\n|---|---|---|---|")
    accuracy = {name: f"{100 * float(r.mean()):.2f}" for name, r in right.items()}
    print(f"| {accuracy[before]} | {accuracy[after]} | {only_after} / {only_before} | {z:+.2f} |")


if __name__ == "__main__":
    main()
