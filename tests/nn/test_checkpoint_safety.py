"""A checkpoint from someone else must not run code when emolens loads it (torch.load weights_only=True)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="checkpoints need the 'train' extra")

from emolens.errors import ModelFileError  # noqa: E402
from emolens.nn.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


class _RunsCode:
    """Unpickling this calls Path.touch on a marker file: what a hostile checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "config": {"model": "resnet_s"}, "payload": _RunsCode(marker)}, path)
    with pytest.raises(ModelFileError, match=r"evil\.pt: not a readable checkpoint"):
        load_checkpoint(path)
    assert not marker.exists(), "loading the checkpoint ran its code"


def test_an_ordinary_checkpoint_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.pt"
    state = {"model": {"w": torch.ones(2)}, "config": {"model": "resnet_s", "epochs": 3}, "epoch": 3, "best": 0.5}
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)
    assert loaded["config"] == state["config"] and torch.equal(loaded["model"]["w"], torch.ones(2))
