"""Checkpoints that carry their config: a model can be rebuilt from the file alone."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from emolens.errors import ModelFileError
from emolens.nn.models import create_model


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write atomically: a kill mid-write leaves the previous file intact.

    The file is written beside `path` under a temporary name, fsynced, then renamed over it.

    Args:
        path: Where the checkpoint goes; missing parent folders are created.
        state: What `torch.save` stores; `load_checkpoint` wants at least "model" (a state dict) and "config".

    Raises:
        OSError: If the folder or file cannot be written; the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint that `save_checkpoint` wrote, onto the CPU.

    Args:
        path: The checkpoint file.

    Returns:
        The saved dict, with at least "model" (a state dict) and "config".

    Raises:
        ModelFileError: If the file is missing, unreadable by torch, or lacks "model" or "config".
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such checkpoint")
    try:
        # weights_only: a checkpoint from someone else must not be able to run code when it is unpickled.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a damaged file
        raise ModelFileError(f"{path}: not a readable checkpoint ({err.__class__.__name__})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise ModelFileError(f"{path}: not an emolens checkpoint (no model/config)")
    return state


def model_from_checkpoint(state: dict[str, Any]) -> nn.Module:
    """Rebuild the network a checkpoint describes and load its weights.

    Args:
        state: A checkpoint dict from `load_checkpoint`; config["model"] names the architecture and
            config["model_kwargs"], when present, its constructor arguments.

    Returns:
        The model, in eval mode.

    Raises:
        ValueError: If the architecture name is unknown.
        RuntimeError: If the weights do not fit the architecture (torch's `load_state_dict`).
    """
    cfg = state["config"]
    model = create_model(cfg["model"], **cfg.get("model_kwargs", {}))
    model.load_state_dict(state["model"])
    return model.eval()
