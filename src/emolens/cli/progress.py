"""Progress bars (tqdm) for the subcommands."""

from __future__ import annotations

import sys

from tqdm import tqdm


class TrainProgress:
    """One bar per epoch with loss, accuracy and ETA; a summary line after each."""

    def __init__(self) -> None:
        self._bar: tqdm | None = None
        self._loss = 0.0
        self._acc = 0.0
        self._n = 0

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        self._bar = tqdm(
            total=batches,
            desc=f"epoch {epoch}/{epochs}",
            unit="batch",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None,
        )
        self._loss = self._acc = 0.0
        self._n = 0

    def batch_end(self, loss: float, acc: float) -> None:
        self._n += 1
        self._loss += (loss - self._loss) / self._n
        self._acc += (acc - self._acc) / self._n
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{self._loss:.3f}", acc=f"{self._acc:.3f}", refresh=False)

    def epoch_end(self, row: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.close()
        tqdm.write(
            f"epoch {int(row['epoch'])}: train loss {row['train_loss']:.3f} acc {row['train_acc']:.3f} | "
            f"PublicTest loss {row['val_loss']:.3f} acc {row['val_acc']:.4f} | "
            f"lr {row['lr']:.4f} | {row['seconds']:.0f}s",
            file=sys.stderr,
        )
