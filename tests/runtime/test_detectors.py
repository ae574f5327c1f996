"""Every detector behind the FaceDetector protocol: the same contract, tested on the same inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emolens.errors import ModelFileError
from emolens.runtime.detectors import (
    DETECTORS,
    HaarFaceDetector,
    describe_detector,
    make_detector,
    resolve_detector,
)
from emolens.runtime.detectors.cnn import CnnFaceDetector
from emolens.types import Box, Detection
from support import shared_path

NAMES = ["haar", "cnn"]


@pytest.fixture(scope="module", params=NAMES)
def detector(request):
    return make_detector(request.param)


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    return cv2.imread(str(shared_path("media", "single_face.jpg")))


def assert_valid(detections: list[Detection], image: np.ndarray) -> None:
    """The protocol: Detections, boxes non-empty and inside the frame, scores in [0, 1] or None, left to right."""
    height_px, width_px = image.shape[:2]
    for d in detections:
        assert isinstance(d, Detection) and isinstance(d.box, Box)
        assert 0 <= d.box.x1 < d.box.x2 <= width_px and 0 <= d.box.y1 < d.box.y2 <= height_px
        assert d.score is None or 0.0 <= d.score <= 1.0
        assert d.landmarks is None or (len(d.landmarks) == 5 and all(len(p) == 2 for p in d.landmarks))
    assert [d.box.x1 for d in detections] == sorted(d.box.x1 for d in detections)


def test_one_face_in_a_portrait(detector, portrait):
    faces = detector.detect(portrait)
    assert_valid(faces, portrait)
    assert len(faces) == 1 and faces[0].box.width >= 90


def test_scores_and_landmarks_by_detector(detector, portrait):
    (face,) = detector.detect(portrait)
    if detector.name == "haar":
        assert face.score is None and face.landmarks is None  # the cascade has neither
    else:
        assert 0.5 <= face.score <= 1.0
        (lx, ly), (rx, ry) = face.landmarks[:2]  # the eyes: inside the box, left one first
        assert face.box.x1 <= lx < rx <= face.box.x2 and face.box.y1 <= min(ly, ry) <= face.box.y2


def test_gray_bgra_and_16_bit_frames_give_the_same_face(detector, portrait):
    (reference,) = detector.detect(portrait)
    gray = cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY)
    variants = [gray, gray[:, :, None], cv2.cvtColor(portrait, cv2.COLOR_BGR2BGRA), portrait.astype(np.uint16) * 257]
    for variant in variants:
        faces = detector.detect(variant)
        assert_valid(faces, variant)
        assert len(faces) == 1 and faces[0].box.iou(reference.box) > 0.85


def test_a_face_cut_by_the_frame_edge_is_clipped_to_it(detector, portrait):
    (face,) = detector.detect(portrait)
    # Keep the right 70% of the face only: the detector's box would reach past the left edge.
    cut = np.ascontiguousarray(portrait[:, face.box.x1 + face.box.width * 3 // 10 :])
    faces = detector.detect(cut)
    assert_valid(faces, cut)


def test_empty_blank_and_tiny_frames_have_no_faces(detector):
    for frame in (
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((0, 640), np.uint8),
        np.zeros((240, 320, 3), np.uint8),
        np.full((10, 10), 128, np.uint8),
        np.full((1, 1, 4), 255, np.uint8),
    ):
        assert detector.detect(frame) == []


def test_a_non_image_array_is_refused(detector):
    with pytest.raises(ValueError, match="shape"):
        detector.detect(np.zeros((20, 20, 5), np.uint8))


def test_a_large_frame_finds_the_same_face(detector, portrait):
    big = cv2.resize(portrait, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # 1716 px: shrunk before detection
    (reference,) = detector.detect(portrait)
    faces = detector.detect(big)
    assert len(faces) == 1
    scaled = Box(*(round(v / 3) for v in faces[0].box.xyxy()))
    assert scaled.iou(reference.box) > 0.8


@pytest.mark.parametrize("name", NAMES)
def test_min_face_px_drops_small_faces(media, name):
    image = cv2.imread(str(media / "multi_face.jpg"))  # faces are 90-135 px
    assert len(make_detector(name, min_face_px=40).detect(image)) == 5
    some = make_detector(name, min_face_px=125).detect(image)
    assert 0 < len(some) < 5
    assert make_detector(name, min_face_px=200).detect(image) == []


def test_min_score_filters_the_cnn(portrait):
    assert len(make_detector("cnn", min_score=0.5).detect(portrait)) == 1
    assert make_detector("cnn", min_score=1.0).detect(portrait) == []  # the network tops out near 0.95


def test_names_and_auto():
    assert DETECTORS == ("auto", "cnn", "haar")
    assert resolve_detector("haar") == "haar"
    assert resolve_detector("auto") == "cnn"  # the ONNX CNN ships in the package: every platform runs it
    assert isinstance(make_detector("auto"), CnnFaceDetector)
    assert describe_detector("haar").startswith("haar (OpenCV 4.")
    assert describe_detector("auto").startswith("cnn (libfacedetection CNN on onnxruntime ")


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="min_face_px"):
        HaarFaceDetector(min_face_px=0)
    with pytest.raises(ValueError, match="unknown detector 'yolo'"):
        make_detector("yolo")
    bad = tmp_path / "cascade.xml"
    bad.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ModelFileError, match=r"cascade\.xml"):
        HaarFaceDetector(cascade_path=bad)


def test_bad_cnn_settings():
    with pytest.raises(ValueError, match="min_score"):
        make_detector("cnn", min_score=1.5)
