"""The emotion classifier: an ONNX model run by onnxruntime, one batched call per frame."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emolens import modelmeta as meta_keys
from emolens.errors import ModelFileError
from emolens.preprocess import INPUT_SIZE_PX, MEAN, STD, preprocess_faces
from emolens.runtime.onnx_session import open_session
from emolens.types import EMOTIONS

log = logging.getLogger(__name__)

INPUT_NAME = "input"
OUTPUT_NAME = "probs"


class EmotionClassifier:
    """Face crops -> (N, 7) probabilities in EMOTIONS order. `predict` is safe to call from several threads."""

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        self.path = Path(model_path)
        self._session = open_session(self.path, threads)
        self._check_io()
        meta = self._session.get_modelmeta().custom_metadata_map
        self.labels: tuple[str, ...] = self._check_metadata(meta)
        self.temperature: float = _float_meta(self.path, meta, meta_keys.TEMPERATURE)
        self.architecture: str = meta.get(meta_keys.ARCHITECTURE, "unknown")
        self.metadata: dict[str, str] = dict(meta)

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Crops (any size, gray/BGR/BGRA, uint8/uint16) -> float32 (N, 7), each row summing to 1.

        Args:
            crops: face crops; each is preprocessed (gray, 48x48, standardised) the way training was.

        Returns:
            One probability row per crop, in EMOTIONS order; (0, 7) for no crops.
        """
        if len(crops) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        return self.predict_batch(preprocess_faces(crops))

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """The model on input that `preprocess_faces` already made (evaluation runs whole data sets this way).

        Args:
            batch: float32 (N, 1, 48, 48), as `emolens.preprocess.preprocess_faces` returns it.

        Returns:
            float32 (N, 7) probabilities in EMOTIONS order.
        """
        probs = self._session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
        return np.asarray(probs, dtype=np.float32)

    def _check_io(self) -> None:
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if INPUT_NAME not in inputs or OUTPUT_NAME not in outputs:
            raise ModelFileError(
                f"{self.path}: expected an input {INPUT_NAME!r} and an output {OUTPUT_NAME!r}, found inputs "
                f"{sorted(inputs)} and outputs {sorted(outputs)}"
            )
        shape = inputs[INPUT_NAME].shape
        if len(shape) != 4 or list(shape[1:]) != [1, INPUT_SIZE_PX, INPUT_SIZE_PX]:
            raise ModelFileError(f"{self.path}: input shape {shape}, expected (N, 1, {INPUT_SIZE_PX}, {INPUT_SIZE_PX})")

    def _check_metadata(self, meta: dict[str, str]) -> tuple[str, ...]:
        # The model must have been trained with exactly the preprocessing this package applies.
        try:
            labels = tuple(json.loads(meta[meta_keys.LABELS]))
        except KeyError:
            raise ModelFileError(
                f"{self.path}: metadata '{meta_keys.LABELS}' is missing; not an emolens export?"
            ) from None
        except (json.JSONDecodeError, TypeError) as err:
            raise ModelFileError(f"{self.path}: metadata '{meta_keys.LABELS}' is not a JSON list ({err})") from None
        if labels != EMOTIONS:
            raise ModelFileError(f"{self.path}: labels {list(labels)} differ from emolens's {list(EMOTIONS)}")
        size = _float_meta(self.path, meta, meta_keys.INPUT_SIZE)
        mean = _float_meta(self.path, meta, meta_keys.MEAN)
        std = _float_meta(self.path, meta, meta_keys.STD)
        if size != INPUT_SIZE_PX or not math.isclose(mean, MEAN) or not math.isclose(std, STD):
            raise ModelFileError(
                f"{self.path}: preprocessing input_size={size:g} mean={mean:g} std={std:g} differs from "
                f"emolens.preprocess ({INPUT_SIZE_PX}, {MEAN:g}, {STD:g})"
            )
        return labels


def _float_meta(path: Path, meta: dict[str, str], key: str) -> float:
    try:
        return float(meta[key])
    except KeyError:
        raise ModelFileError(f"{path}: metadata {key!r} is missing; was it exported by emolens?") from None
    except ValueError:
        raise ModelFileError(f"{path}: metadata {key!r} is not a number: {meta[key]!r}") from None
