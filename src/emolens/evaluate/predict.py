"""Probabilities from a model file: an .onnx file through the runtime's classifier, a checkpoint through torch.

torch is imported only when a training checkpoint (`best.pt`, `last.pt`) is handed over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from emolens import modelmeta as meta_keys
from emolens.errors import ModelFileError
from emolens.preprocess import preprocess_faces
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.registry import model_path as shipped_model_path

from .metrics import NUM_CLASSES

Tta = Literal["none", "flip"]
CHECKPOINT_SUFFIXES = {".pt", ".pth", ".ckpt"}


def is_checkpoint(path: str | Path) -> bool:
    """Whether `path` names a training checkpoint, judged by its suffix alone (the file is not opened).

    Args:
        path: A model file path.

    Returns:
        True for a suffix in CHECKPOINT_SUFFIXES (.pt, .pth, .ckpt), in any case.
    """
    return Path(path).suffix.lower() in CHECKPOINT_SUFFIXES


@dataclass(frozen=True)
class Predictor:
    """A loaded model: `run` maps preprocessed inputs (N, 1, 48, 48) float32 to probabilities (N, 7).

    `temperature` is the one already inside the model (ONNX metadata; 1.0 for a checkpoint's raw logits).
    """

    path: Path
    kind: str  # "onnx" or "checkpoint"
    run: Callable[[np.ndarray], np.ndarray]
    temperature: float = 1.0
    architecture: str = ""
    tta: str = "none"  # test-time augmentation already inside the model (ONNX metadata emolens.tta)


def load_predictor(model_path: str | Path, threads: int = 1) -> Predictor:
    """Load a model file once, for `predict_with` to run on any number of batches.

    An .onnx file goes through the runtime's `EmotionClassifier` (metadata checked as users' code checks it);
    a checkpoint is rebuilt in torch, which is imported only then.

    Args:
        model_path: An .onnx file or a training checkpoint (.pt, .pth, .ckpt); not a shipped model's name
            (`resolve_model` turns a name into a path).
        threads: CPU threads for inference; an ONNX model uses at least 1, and for a checkpoint 0 or less
            leaves torch's setting alone.

    Returns:
        The loaded model.

    Raises:
        ModelFileError: If the file is missing, unreadable, or lacks the metadata or config emolens needs.
        ValueError: If a checkpoint's config names an unknown architecture.
    """
    path = Path(model_path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if is_checkpoint(path):
        return _torch_predictor(path, threads)
    return _onnx_predictor(path, threads)


def _onnx_predictor(path: Path, threads: int) -> Predictor:
    # The runtime's classifier, so eval loads a model exactly as users' code does (labels and preprocessing
    # checked against the metadata).
    classifier = EmotionClassifier(path, threads=max(1, threads))
    tta = classifier.metadata.get(meta_keys.TTA, "none")
    return Predictor(path, "onnx", classifier.predict_batch, classifier.temperature, classifier.architecture, tta)


def _torch_predictor(path: Path, threads: int) -> Predictor:
    import torch

    from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint

    if threads > 0:
        torch.set_num_threads(threads)
    state = load_checkpoint(path)
    model = model_from_checkpoint(state).float()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()

    return Predictor(path, "checkpoint", run, 1.0, str(state["config"].get("model", "")))


def predict_probs(
    model_path: str | Path,
    images: np.ndarray | Sequence[np.ndarray],
    tta: Tta = "none",
    threads: int = 1,
    batch_size: int = 256,
) -> np.ndarray:
    """(N, 7) float32 probabilities for face crops (N 48x48 uint8 images, or any crops) from an .onnx
    file or a checkpoint; tta="flip" averages the probabilities of each image and its mirror.

    Args:
        model_path: An .onnx file or a training checkpoint, as `load_predictor` takes it.
        images: Face crops: an (N, 48, 48) uint8 array or any crops `preprocess_faces` accepts.
        tta: "none", or "flip" to average each image with its mirror.
        threads: CPU threads for inference.
        batch_size: Images per model call.

    Returns:
        Probabilities, (N, 7), in EMOTIONS order.

    Raises:
        ValueError: If `tta` is unknown, the model already flips inside and tta="flip", or a crop is unusable.
        ModelFileError: If the model cannot be loaded.
    """
    if tta not in ("none", "flip"):
        raise ValueError(f"unknown test-time augmentation {tta!r}; choose none or flip")
    predictor = load_predictor(model_path, threads)
    return predict_with(predictor, images, tta, batch_size)


def predict_with(
    predictor: Predictor,
    images: np.ndarray | Sequence[np.ndarray],
    tta: Tta = "none",
    batch_size: int = 256,
) -> np.ndarray:
    """(N, 7) float32 probabilities for face crops from an already loaded model.

    Args:
        predictor: The model, from `load_predictor`.
        images: Face crops: an (N, 48, 48) uint8 array or any crops `preprocess_faces` accepts.
        tta: "none", or "flip" to average each image with its mirror.
        batch_size: Images per model call.

    Returns:
        Probabilities, (N, 7), in EMOTIONS order.

    Raises:
        ValueError: If tta="flip" for a model that already averages with the mirror, or a crop is unusable.
    """
    if tta == "flip" and predictor.tta == "flip":
        raise ValueError(f"{predictor.path}: the model already averages each face with its mirror; drop --tta flip")
    x = preprocess_faces(images)
    out = np.zeros((len(x), NUM_CLASSES), dtype=np.float32)
    for i in range(0, len(x), batch_size):
        batch = np.ascontiguousarray(x[i : i + batch_size])
        probs = predictor.run(batch)
        if tta == "flip":
            probs = 0.5 * (probs + predictor.run(np.ascontiguousarray(batch[:, :, :, ::-1])))
        out[i : i + batch_size] = probs
    return out


def resolve_model(name_or_path: str | Path) -> Path:
    """'fast', 'accurate' -> a shipped model; a checkpoint or .onnx path -> itself.

    Args:
        name_or_path: A shipped model's name, or the path of an .onnx file or a checkpoint.

    Returns:
        The path of an existing model file.

    Raises:
        ModelFileError: the file does not exist (or a shipped model is missing from the installation).
    """
    path = Path(name_or_path)
    if path.suffix and is_checkpoint(path):
        if not path.is_file():
            raise ModelFileError(f"{path}: no such checkpoint")
        return path
    return shipped_model_path(name_or_path)
