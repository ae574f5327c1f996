"""Every detector behind the FaceDetector protocol: the same contract, tested on the same inputs."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.errors import ModelFileError
from emolens.runtime.detectors import (
    DETECTORS,
    HaarFaceDetector,
    cnn_available,
    describe_detector,
    make_detector,
    resolve_detector,
)
from emolens.types import Box, Detection
from support import shared_path

needs_cnn = pytest.mark.skipif(not cnn_available(), reason="the CNN detector's package (yuface) is not installed")
NAMES = ["haar", pytest.param("cnn", marks=needs_cnn)]


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


@needs_cnn
def test_min_score_filters_the_cnn(portrait):
    assert len(make_detector("cnn", min_score=0.5).detect(portrait)) == 1
    assert make_detector("cnn", min_score=1.0).detect(portrait) == []  # the library tops out below 100 per cent


def test_names_and_auto():
    assert DETECTORS == ("auto", "cnn", "haar")
    assert resolve_detector("haar") == "haar"
    assert resolve_detector("auto") == ("cnn" if cnn_available() else "haar")
    assert make_detector("auto").name == resolve_detector("auto")
    assert describe_detector("haar").startswith("haar (OpenCV 4.")
    assert describe_detector("auto").startswith(resolve_detector("auto") + " (")


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="min_face_px"):
        HaarFaceDetector(min_face_px=0)
    with pytest.raises(ValueError, match="unknown detector 'yolo'"):
        make_detector("yolo")
    bad = tmp_path / "cascade.xml"
    bad.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ModelFileError, match=r"cascade\.xml"):
        HaarFaceDetector(cascade_path=bad)


@needs_cnn
def test_bad_cnn_settings():
    with pytest.raises(ValueError, match="min_score"):
        make_detector("cnn", min_score=1.5)


def _network_frames() -> list[np.ndarray]:
    """The shared photos and every 20th frame of a clip, at most 640 px wide (as the detector shrinks them)."""
    images = [
        cv2.imread(str(shared_path("media", name))) for name in ("single_face.jpg", "multi_face.jpg", "obama.jpg")
    ]
    cap = cv2.VideoCapture(str(shared_path("media", "WolfgangLanger_Pexels.mp4")))
    for index in range(200):
        ok, frame = cap.read()
        if ok and index % 20 == 0:
            images.append(frame)
    cap.release()
    return [cv2.resize(im, (640, round(im.shape[0] * 640 / im.shape[1]))) if im.shape[1] > 640 else im for im in images]


@needs_cnn
def test_the_network_called_directly_gives_the_bindings_rows():
    # The detector calls libfacedetection.so itself because yuface's binding leaks a buffer per call; the rows
    # must be the binding's (the 16th value is unused: memory neither side sets).
    import yuface

    from emolens.runtime.detectors.cnn import load_package

    network, _ = load_package()
    frames = _network_frames()
    faces = 0
    for frame in frames:
        ours, theirs = network(frame), yuface.c_detect(frame)
        assert ours.dtype == np.int16 and ours.shape == theirs.shape
        assert np.array_equal(ours[:, :15], theirs[:, :15])
        faces += len(ours)
    assert faces >= len(frames)  # faces were found, so the rows were compared, not just empty arrays


@needs_cnn
@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads the resident set from /proc")
def test_the_network_call_does_not_leak():
    # yuface's binding held 36 KB more after every call (600 calls: about 21 MB); the direct call holds nothing.
    from emolens.runtime.detectors.cnn import load_package

    network, _ = load_package()
    tiny = np.zeros((32, 32, 3), np.uint8)

    def resident_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    for _ in range(50):  # allocator warm-up
        network(tiny)
    before = resident_mb()
    for _ in range(600):
        network(tiny)
    assert resident_mb() - before < 5.0
