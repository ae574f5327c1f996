from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emolens.errors import ModelFileError
from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.registry import model_path
from emolens.types import EMOTIONS


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier(model_path("fast"))


def test_reads_metadata(classifier):
    assert classifier.labels == EMOTIONS
    assert classifier.temperature > 0
    assert classifier.architecture
    assert classifier.path == model_path("fast") and classifier.path.name == "emolens-fast.onnx"


def test_batch_of_mixed_crops_gives_probabilities(classifier):
    rng = np.random.default_rng(0)
    crops = [
        rng.integers(0, 256, (48, 48), dtype=np.uint8),
        rng.integers(0, 256, (120, 100, 3), dtype=np.uint8),
        rng.integers(0, 256, (30, 30, 4), dtype=np.uint8),
        rng.integers(0, 65536, (64, 64), dtype=np.uint16),
    ]
    probs = classifier.predict(crops)
    assert probs.shape == (4, 7) and probs.dtype == np.float32
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_batched_equals_one_by_one(classifier):
    crops = list(np.random.default_rng(1).integers(0, 256, (5, 48, 48), dtype=np.uint8))
    together = classifier.predict(crops)
    alone = np.concatenate([classifier.predict([c]) for c in crops])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_no_crops_no_rows(classifier):
    assert classifier.predict([]).shape == (0, 7)


def test_model_path_names_and_paths(tmp_path):
    assert model_path("fast").is_file()
    assert model_path(str(model_path("fast"))) == model_path("fast")
    with pytest.raises(ModelFileError, match=r"nope\.onnx: no such model file"):
        model_path(tmp_path / "nope.onnx")
    with pytest.raises(ModelFileError, match="slow"):
        model_path("slow")


def _copy_with_metadata(tmp_path: Path, changes: dict[str, str | None]) -> Path:
    onnx = pytest.importorskip("onnx", reason="editing model metadata needs the onnx package (the train extra)")
    proto = onnx.load(str(model_path("fast")))
    meta = {entry.key: entry.value for entry in proto.metadata_props}
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    out = tmp_path / "edited.onnx"
    onnx.save(proto, str(out))
    return out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"emolens.labels": None}, "'emolens.labels' is missing"),
        ({"emolens.labels": json.dumps(["happy", "sad"])}, "labels .* differ"),
        ({"emolens.labels": "not json"}, "not a JSON list"),
        ({"emolens.mean": "0.45"}, "mean=0.45 .*differs from emolens.preprocess"),
        ({"emolens.std": None}, "'emolens.std' is missing"),
        ({"emolens.input_size": "64"}, "input_size=64 .*differs from emolens.preprocess"),
        ({"emolens.temperature": "warm"}, "'emolens.temperature' is not a number"),
    ],
)
def test_bad_metadata_is_refused_naming_the_file(tmp_path, changes, message):
    path = _copy_with_metadata(tmp_path, changes)
    with pytest.raises(ModelFileError, match=message) as caught:
        EmotionClassifier(path)
    assert str(path) in str(caught.value)


def test_not_an_onnx_file_is_refused(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelFileError, match=r"junk\.onnx: not a loadable ONNX model"):
        EmotionClassifier(path)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"empty\.onnx"):
        EmotionClassifier(empty)


def test_missing_file_and_bad_threads(tmp_path):
    with pytest.raises(ModelFileError, match=r"gone\.onnx: no such model file"):
        EmotionClassifier(tmp_path / "gone.onnx")
    with pytest.raises(ValueError, match="threads"):
        EmotionClassifier(model_path("fast"), threads=0)
