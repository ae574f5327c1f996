"""PublicTest accuracy of every ensemble that a set of checkpoints can make, with and without the mirror view.

    python research/ensemble_candidates.py DATA NAME=CHECKPOINT [NAME=CHECKPOINT ...]

This is a selection tool: it reads PublicTest only, never PrivateTest. Probabilities are averaged over members
(and views), as `emolens export CKPT [CKPT ...] --tta flip` does in its graph.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from emolens.data import load_data
from emolens.evaluate import predict_probs


def main() -> None:
    if len(sys.argv) < 3 or any("=" not in arg for arg in sys.argv[2:]):
        sys.exit(__doc__)
    val = load_data(sys.argv[1]).split("PublicTest")
    members = dict(arg.split("=", 1) for arg in sys.argv[2:])
    mirrored = val.images[:, :, ::-1].copy()
    probs = {name: predict_probs(path, val.images, threads=2) for name, path in members.items()}
    flipped = {name: predict_probs(path, mirrored, threads=2) for name, path in members.items()}

    def accuracy(p: np.ndarray) -> str:
        return f"{100 * float((p.argmax(1) == val.labels).mean()):.2f}"

    print(f"PublicTest, {len(val)} faces\n\n| members | accuracy | with flip | passes per face |\n|---|---|---|---|")
    for k in range(1, len(members) + 1):
        for combo in itertools.combinations(members, k):
            plain = sum(probs[c] for c in combo)
            with_flip = plain + sum(flipped[c] for c in combo)
            print(f"| {' + '.join(combo)} | {accuracy(plain)} | {accuracy(with_flip)} | {k} / {2 * k} |")


if __name__ == "__main__":
    main()
