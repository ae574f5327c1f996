from __future__ import annotations

import cv2
import numpy as np
import pytest

from emolens.errors import ModelFileError
from emolens.runtime.detector import HaarFaceDetector, make_detector
from emolens.types import Box
from support import read_video_frames


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector()


def assert_inside(box: Box, image: np.ndarray) -> None:
    height_px, width_px = image.shape[:2]
    assert 0 <= box.x1 < box.x2 <= width_px and 0 <= box.y1 < box.y2 <= height_px


@pytest.mark.parametrize("name", ["single_face.jpg", "astronaut.png", "obama.jpg", "biden.jpg"])
def test_one_face_in_portraits(media, detector, name):
    image = cv2.imread(str(media / name))
    faces = detector.detect(image)
    assert len(faces) == 1
    box, score = faces[0]
    assert_inside(box, image)
    assert score is None
    assert box.width >= 90  # these are portraits: the face is large


def test_five_faces_in_the_group_photo(media, detector):
    image = cv2.imread(str(media / "multi_face.jpg"))
    faces = detector.detect(image)
    assert len(faces) == 5
    boxes = [box for box, _ in faces]
    for box in boxes:
        assert_inside(box, image)
    assert all(a.iou(b) < 0.05 for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_a_face_in_every_frame_of_single_face_mp4(media, detector):
    frames = read_video_frames(media / "single_face.mp4")
    counts = [len(detector.detect(frame)) for frame in frames[::4]]
    assert counts == [1] * len(counts)


def test_no_face_in_no_face_mp4(media, detector):
    frames = read_video_frames(media / "no_face.mp4")
    assert [len(detector.detect(frame)) for frame in frames[::3]] == [0] * len(frames[::3])


def test_gray_bgra_and_16_bit_frames_give_the_same_face(media, detector):
    image = cv2.imread(str(media / "single_face.jpg"))
    ((reference, _),) = detector.detect(image)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    variants = [gray, cv2.cvtColor(image, cv2.COLOR_BGR2BGRA), image.astype(np.uint16) * 257]
    for variant in variants:
        ((box, _),) = detector.detect(variant)
        assert box.iou(reference) > 0.9


def test_min_face_px_drops_small_faces(media):
    image = cv2.imread(str(media / "multi_face.jpg"))  # faces are 100-135 px wide
    assert HaarFaceDetector(min_face_px=125).detect(image)
    assert all(box.width >= 125 for box, _ in HaarFaceDetector(min_face_px=125).detect(image))
    assert HaarFaceDetector(min_face_px=200).detect(image) == []


def test_blank_and_tiny_images_have_no_faces(detector):
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    assert detector.detect(np.full((10, 10), 128, np.uint8)) == []


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="min_face_px"):
        HaarFaceDetector(min_face_px=0)
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo")
    bad = tmp_path / "cascade.xml"
    bad.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ModelFileError, match=r"cascade\.xml"):
        HaarFaceDetector(cascade_path=bad)
