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
        """Open the epoch's bar on stderr (tqdm hides it when stderr is not a terminal) and reset the means.

        Args:
            epoch: The epoch starting, 1-based as shown.
            epochs: The number of epochs in the run.
            batches: The number of batches in the epoch, the bar's length.
        """
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
        """Advance the bar by one batch and show the running means of loss and accuracy.

        Args:
            loss: The batch's training loss.
            acc: The batch's training accuracy, in [0, 1].
        """
        self._n += 1
        self._loss += (loss - self._loss) / self._n
        self._acc += (acc - self._acc) / self._n
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{self._loss:.3f}", acc=f"{self._acc:.3f}", refresh=False)

    def epoch_end(self, row: dict[str, float]) -> None:
        """Close the bar and write the epoch's summary line to stderr.

        Args:
            row: The epoch's log row, with epoch, train_loss, train_acc, val_loss, val_acc, lr and seconds.

        Raises:
            KeyError: If `row` lacks one of those keys.
        """
        if self._bar is not None:
            self._bar.close()
        tqdm.write(
            f"epoch {int(row['epoch'])}: train loss {row['train_loss']:.3f} acc {row['train_acc']:.3f} | "
            f"PublicTest loss {row['val_loss']:.3f} acc {row['val_acc']:.4f} | "
            f"lr {row['lr']:.4f} | {row['seconds']:.0f}s",
            file=sys.stderr,
        )
