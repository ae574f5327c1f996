"""research/build_browser_classifier.py: the float32 copy of the int8 classifier that docs/browser-camera.md measured
in the page. It is not shipped; these tests keep the measurement reproducible: the same bytes every build, the int8
file's metadata, no quantization left, and the same answers as the int8 file on a shared photo."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from emolens.api import Recognizer, RecognizerOptions
from emolens.runtime.registry import model_path
from support import REPO, shared_path


@pytest.fixture(scope="module")
def builder():
    pytest.importorskip("onnx", reason="the script needs the onnx package (the train extra)")
    spec = importlib.util.spec_from_file_location(
        "build_browser_classifier", REPO / "research" / "build_browser_classifier.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def copy_file(builder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("copy") / "fast-float32.onnx"
    assert builder.main(["--out", str(out)]) == 0
    return out


def test_the_copy_is_the_same_bytes_every_build_and_keeps_the_metadata(builder, copy_file: Path) -> None:
    import onnx

    assert builder.build_bytes(model_path("fast")) == copy_file.read_bytes()
    assert builder.main(["--out", str(copy_file), "--check"]) == 0
    int8, copy = onnx.load(str(model_path("fast"))), onnx.load(str(copy_file))
    assert [(p.key, p.value) for p in copy.metadata_props] == [(p.key, p.value) for p in int8.metadata_props]
    ops = {node.op_type for node in copy.graph.node}
    assert not ops & {"QuantizeLinear", "DequantizeLinear"}, ops
    assert "Clip" in ops  # the saturation of the removed pairs: the folded ReLUs
    quantized = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT32)
    assert not [init.name for init in copy.graph.initializer if init.data_type in quantized]


def test_the_copy_answers_as_the_int8_model_on_a_shared_photo(copy_file: Path) -> None:
    photo = shared_path("media", "multi_face.jpg")
    int8 = Recognizer(RecognizerOptions()).analyze(photo).faces
    copy = Recognizer(RecognizerOptions(model=str(copy_file))).analyze(photo).faces
    assert len(int8) == len(copy) == 5
    for a, b in zip(int8, copy, strict=True):
        assert np.argmax(a.probs) == np.argmax(b.probs)
        assert np.max(np.abs(np.subtract(a.probs, b.probs))) <= 0.02
