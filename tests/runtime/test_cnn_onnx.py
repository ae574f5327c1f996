"""The shipped ONNX face detector: rebuilt byte for byte from libfacedetection's source, its decoding, and fixed
results on shared photos (the values the network gave when it was checked against yuface's compiled library:
benchmarks/detector_parity.py, docs/detectors.md)."""

from __future__ import annotations

import importlib.util
import sys

import cv2
import numpy as np
import pytest

from emolens.errors import ModelFileError
from emolens.runtime.detectors import make_detector
from emolens.runtime.detectors.cnn import Decoding, decode, model_file, suppress_overlaps
from support import REPO, shared_path

#: make_detector("cnn", max_side_px=320) (RecognizerOptions' detector side) on two shared photos: box, score and the
#: five landmarks. yuface's library gave the same faces (its integer rows equal these truncated).
EXPECTED = {
    "single_face.jpg": [
        ((190, 141, 368, 397), 0.933, ((227.2, 246.4), (310.8, 244.5), (268.7, 295.3), (232.2, 331.5), (308.5, 330.1))),
    ],
    "multi_face.jpg": [
        ((210, 63, 310, 184), 0.912, ((242.9, 106.7), (288.0, 107.4), (267.7, 131.4), (243.1, 152.6), (281.1, 153.2))),
        ((311, 234, 412, 362), 0.924, ((342.1, 281.3), (388.5, 281.6), (366.6, 306.1), (342.7, 327.2), (384.6, 326.9))),
        ((433, 216, 519, 321), 0.928, ((458.0, 247.3), (497.6, 246.2), (479.8, 268.0), (464.3, 288.4), (497.8, 289.7))),
        ((530, 303, 629, 434), 0.918, ((549.0, 351.9), (600.7, 353.2), (570.3, 378.2), (551.3, 398.8), (594.4, 398.7))),
        ((685, 293, 789, 417), 0.919, ((709.8, 341.8), (761.1, 340.9), (736.1, 364.5), (717.8, 384.1), (757.6, 382.7))),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", EXPECTED)
def test_fixed_faces_on_shared_photos(name):
    faces = make_detector("cnn", max_side_px=320).detect(cv2.imread(str(shared_path("media", name))))
    assert len(faces) == len(EXPECTED[name])
    for face, (box, score, landmarks) in zip(faces, EXPECTED[name], strict=True):
        # Tolerances cover float rounding across CPUs and onnxruntime versions, not a different network.
        assert np.abs(np.subtract(face.box.xyxy(), box)).max() <= 1
        assert face.score == pytest.approx(score, abs=0.002)
        assert face.landmarks is not None
        assert np.abs(np.subtract(face.landmarks, landmarks)).max() <= 0.3


@pytest.fixture(scope="module")
def converter():
    pytest.importorskip("onnx", reason="the converter needs the onnx package (the train extra)")
    spec = importlib.util.spec_from_file_location("build_face_detector", REPO / "scripts" / "build_face_detector.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_the_shipped_file_is_rebuilt_byte_for_byte_from_the_source(converter):
    assert converter.build_bytes(shared_path("libfacedetection")) == model_file().read_bytes()


def test_the_converter_stops_at_a_layer_call_it_does_not_know(converter, tmp_path):
    source = shared_path("libfacedetection")
    (tmp_path / "src").mkdir()
    for name in ("facedetectcnn-data.cpp", "facedetectcnn-model.cpp"):
        (tmp_path / "src" / name).write_bytes((source / "src" / name).read_bytes())
    (tmp_path / "SOURCE.md").write_text("a copy", encoding="utf-8")
    model = tmp_path / "src" / "facedetectcnn-model.cpp"
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("fx = maxpooling2x2S2(fb1);", "fx = avgpooling2x2S2(fb1);"), encoding="utf-8")
    with pytest.raises(converter.SourceError, match="avgpooling2x2S2"):
        converter.build_model(tmp_path)


def test_the_license_ships_beside_the_network():
    text = (model_file().parent / "LICENSE-libfacedetection.txt").read_text(encoding="utf-8")
    assert "3-clause BSD License" in text and "Shiqi Yu" in text and "libfacedetection" in text


def _heads(cells: dict[int, int]) -> dict[str, np.ndarray]:
    """All-zero heads (scores 0) for maps of the given cell counts per stride."""
    out = {}
    for stride, n in cells.items():
        out[f"cls_{stride}"] = np.zeros((1, n, 1), np.float32)
        out[f"obj_{stride}"] = np.zeros((1, n, 1), np.float32)
        out[f"bbox_{stride}"] = np.zeros((1, n, 4), np.float32)
        out[f"kps_{stride}"] = np.zeros((1, n, 10), np.float32)
    return out


DECODING = Decoding(strides=(8, 16, 32), pad_px=32, score_threshold=0.2, nms_iou=0.45, top_k=1000, keep_top_k=512)


def test_decode_places_priors_and_sizes_as_libfacedetection():
    # A 70x40 image is padded to 96x64: maps of 12x8, 6x4 and 3x2 cells.
    heads = _heads({8: 96, 16: 24, 32: 6})
    cell = 2 * 6 + 3  # stride 16: row 2, column 3 -> prior (48, 32)
    heads["cls_16"][0, cell] = heads["obj_16"][0, cell] = 0.81  # score sqrt(0.81 * 0.81) = 0.81
    heads["bbox_16"][0, cell] = [0.5, -0.25, np.log(2.0), 0.0]  # centre (56, 28), 32 x 16
    heads["kps_16"][0, cell] = [1, 1, -1, 0, 0, 0, 0, 0, 0, 0]
    found = decode(heads, 40, 70, DECODING, min_score=0.5)
    assert found.scores == pytest.approx([0.81])
    assert found.boxes[0] == pytest.approx([40, 20, 72, 36])
    assert found.landmarks[0, :2] == pytest.approx(np.array([[64, 48], [32, 32]]))
    assert decode(heads, 40, 70, DECODING, min_score=0.9).scores.size == 0
    with pytest.raises(ModelFileError, match="cls_8"):
        decode(heads, 200, 70, DECODING, min_score=0.5)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 5], [10, 0, 20, 10]], np.float32)
    # 1 overlaps 0 by 0.68: dropped; 3 lies inside 0 at IoU 0.5 > 0.45: dropped; 4 only touches 0: kept.
    assert suppress_overlaps(boxes, 0.45).tolist() == [0, 2, 4]
    assert suppress_overlaps(np.zeros((0, 4), np.float32), 0.45).tolist() == []


def test_a_file_without_the_decoding_metadata_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="decoding metadata"):
        Decoding.from_metadata(tmp_path / "x.onnx", {"strides": "[8, 16, 32]"})
    assert Decoding.from_metadata(model_file(), _shipped_metadata()) == DECODING


def _shipped_metadata() -> dict[str, str]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_file()), providers=["CPUExecutionProvider"])
    return session.get_modelmeta().custom_metadata_map
