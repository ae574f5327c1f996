"""PublicTest accuracy of weight averages ("model soups") of runs that start from the same weights.

    python research/soup_candidates.py DATA NAME=CHECKPOINT [NAME=CHECKPOINT ...] --soup NAME+NAME [--soup ...]

Each soup averages its members' weights uniformly (Wortsman et al. 2022) into one network of the same cost as
one member; this only makes sense for runs fine-tuned from one starting point (here the distillation variants
of one seed, all started with `--init` from the same checkpoint). Batch-norm statistics are not weights: each
soup is scored with the members' averaged statistics and with statistics recomputed in one pass over Training
(unaugmented faces). A single NAME is scored too, as the baseline. A selection tool: it reads PublicTest only.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import update_bn

from emolens.data import load_data
from emolens.evaluate import predict_probs
from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from emolens.preprocess import preprocess_faces


def average_weights(checkpoints: list[Path]) -> dict:
    """One checkpoint whose every tensor is the members' mean; the first member's config travels with it."""
    states = [load_checkpoint(path) for path in checkpoints]
    first = states[0]["model"]
    architectures = {(s["config"]["model"], str(s["config"].get("model_kwargs", {}))) for s in states}
    if len(architectures) > 1:
        raise ValueError(f"a soup's members must share one architecture, not {sorted(architectures)}")
    model = {k: (sum(s["model"][k].double() for s in states) / len(states)).to(v.dtype) for k, v in first.items()}
    return {"config": states[0]["config"], "model": model}


def recompute_batchnorm(state: dict, inputs: torch.Tensor, batch_size: int = 256) -> dict:
    """The same weights with batch-norm statistics measured afresh on `inputs`, averaged over its batches."""
    model = model_from_checkpoint(state)
    update_bn(inputs.split(batch_size), model)  # resets the statistics, then a cumulative average over batches
    return {"config": state["config"], "model": model.state_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("networks", nargs="+", metavar="NAME=CHECKPOINT")
    parser.add_argument("--soup", action="append", required=True, metavar="NAME+NAME")
    args = parser.parse_args()
    if any("=" not in arg for arg in args.networks):
        parser.error("each network is NAME=CHECKPOINT")
    paths = {name: Path(path) for name, path in (arg.split("=", 1) for arg in args.networks)}
    soups = [soup.split("+") for soup in args.soup]
    unknown = sorted({name for soup in soups for name in soup} - set(paths))
    if unknown:
        parser.error(f"--soup names {', '.join(unknown)}, not among the networks given")

    torch.set_num_threads(2)  # the batch-norm pass; predict_probs sets the same for scoring
    data = load_data(args.data)
    val = data.split("PublicTest")
    train_inputs = torch.from_numpy(preprocess_faces(data.split("Training").images))

    def accuracy(checkpoint: Path, tta: str) -> str:
        probs = predict_probs(checkpoint, val.images, tta=tta, threads=2)
        return f"{100 * float(np.mean(probs.argmax(1) == val.labels)):.2f}"

    print("| soup | stored statistics | with flip | statistics recomputed | with flip |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for soup in soups:
            stored = average_weights([paths[name] for name in soup])
            row = [" + ".join(soup)]
            for i, state in enumerate((stored, recompute_batchnorm(stored, train_inputs))):
                checkpoint = Path(tmp, f"soup{i}.pt")
                save_checkpoint(checkpoint, state)
                row += [accuracy(checkpoint, "none"), accuracy(checkpoint, "flip")]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
