from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

import emolens
from emolens.api import Recognizer, RecognizerOptions
from emolens.errors import MediaError, ModelFileError
from emolens.types import EMOTIONS, LANDMARK_POINTS, Box, EmotionProbs, FaceResult, FrameResult, Landmarks, Point
from support import read_video_frames


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


def assert_probabilities(probs: tuple[float, ...]) -> None:
    assert len(probs) == len(EMOTIONS)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(probs) == pytest.approx(1.0, abs=1e-5)


def test_analyze_a_path_and_an_array(media, recognizer):
    from_path = recognizer.analyze(media / "multi_face.jpg")
    from_array = recognizer.analyze(cv2.imread(str(media / "multi_face.jpg")))
    assert isinstance(from_path, FrameResult) and len(from_path.faces) == 5
    assert [f.box for f in from_path.faces] == [f.box for f in from_array.faces]
    for face in from_path.faces:
        assert_probabilities(face.probs)
        assert face.track_id is None and face.emotion in EMOTIONS


def test_module_level_analyze_and_options(media):
    result = emolens.analyze(str(media / "single_face.jpg"))
    assert len(result.faces) == 1
    whole = emolens.analyze(media / "single_face.jpg", whole_image=True)
    (face,) = whole.faces
    assert face.box.xyxy() == [0, 0, 572, 562]
    with pytest.raises(TypeError, match="colour"):
        emolens.analyze(media / "single_face.jpg", colour="red")


def test_bad_inputs_and_options(tmp_path, recognizer):
    with pytest.raises(MediaError, match=r"nothing\.jpg: no such file"):
        recognizer.analyze(tmp_path / "nothing.jpg")
    with pytest.raises(ValueError, match="shape"):
        recognizer.analyze(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="detect_every"):
        RecognizerOptions.from_flat(detect_every=0)
    with pytest.raises(ValueError, match="unknown detector"):
        RecognizerOptions(detector="dlib")
    with pytest.raises(ModelFileError, match=r"absent\.onnx"):
        Recognizer(RecognizerOptions(model=tmp_path / "absent.onnx"))


def test_analyze_is_thread_safe(media, recognizer):
    images = [cv2.imread(str(media / name)) for name in ("multi_face.jpg", "single_face.jpg", "astronaut.png")]
    expected = [recognizer.analyze(image) for image in images]
    got: dict[int, FrameResult] = {}

    def work(i: int) -> None:
        got[i] = recognizer.analyze(images[i % 3])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(6):
        assert got[i] == expected[i % 3]


def test_stream_finds_the_face_in_single_face_mp4(media, recognizer):
    stream = recognizer.stream()
    results = [
        stream.process(frame, time_s=i / 30) for i, frame in enumerate(read_video_frames(media / "single_face.mp4"))
    ]
    # A new face is reported once confirmed: seen on 4 frames (min_hits), two of them detector runs.
    assert [len(r.faces) for r in results[:3]] == [0, 0, 0]
    assert all(len(r.faces) == 1 for r in results[3:])
    assert {r.faces[0].track_id for r in results[3:]} == {1}
    assert results[-1].frame_index == len(results) - 1


def test_stream_keeps_the_track_id_until_the_face_leaves(media, recognizer):
    stream = recognizer.stream()
    results = [
        stream.process(frame, time_s=i / 26.4) for i, frame in enumerate(read_video_frames(media / "face_noface.mov"))
    ]
    with_face = [i for i, r in enumerate(results) if r.faces]
    assert len(with_face) > 40 and with_face[0] == 3  # confirmed on its 4th frame
    last = with_face[-1]
    assert with_face == list(range(3, last + 1))  # one unbroken stretch, then the face is gone
    assert last < len(results) - 20
    assert {face.track_id for r in results for face in r.faces} == {1}
    for r in results[3 : last + 1]:
        assert_probabilities(r.faces[0].probs)


def test_stream_sees_nothing_in_no_face_mp4(media, recognizer):
    stream = recognizer.stream()
    assert all(not stream.process(frame, time_s=0.0).faces for frame in read_video_frames(media / "no_face.mp4"))


def test_streams_are_independent(media, recognizer):
    frame = read_video_frames(media / "single_face.mp4", limit=1)[0]
    first, second = recognizer.stream(), recognizer.stream()
    for i in range(4):
        first.process(frame, i / 30)
    first.process(np.zeros_like(frame), 0.2)
    assert [len(second.process(frame, i / 30).faces) for i in range(3)] == [0, 0, 0]  # not confirmed yet
    assert second.process(frame, 0.1).faces[0].track_id == 1


def test_import_and_analyze_never_load_torch(media):
    code = (
        "import sys, json, emolens\n"
        "lazy = 'onnxruntime' not in sys.modules\n"
        f"r = emolens.analyze({str(media / 'single_face.jpg')!r})\n"
        "torch = sorted(m for m in sys.modules if m.split('.')[0] == 'torch')\n"
        "print(json.dumps({'lazy': lazy, 'faces': len(r.faces), 'torch': torch}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout)
    assert report == {"lazy": True, "faces": 1, "torch": []}


def test_probabilities_are_labelled_and_still_a_tuple(media, recognizer):
    (face,) = recognizer.analyze(media / "single_face.jpg").faces
    probs = face.probs
    assert isinstance(probs, EmotionProbs) and isinstance(probs, tuple) and probs._fields == EMOTIONS
    # by name, as a mapping, and by position as before (render, batch and user code index it)
    assert probs.happy == probs[EMOTIONS.index("happy")] == probs.as_dict()["happy"]
    assert list(probs.as_dict()) == list(EMOTIONS) and list(probs.as_dict().values()) == list(probs)
    assert face.emotion == max(probs.as_dict(), key=probs.as_dict().__getitem__)
    assert np.asarray(probs).shape == (7,) and int(np.argmax(probs)) == EMOTIONS.index(face.emotion)
    assert face.to_dict()["probs"] == {k: round(v, 4) for k, v in probs.as_dict().items()}
    assert pickle.loads(pickle.dumps(face)) == face  # batch workers send results between processes
    assert "happy=" in repr(probs)


def test_face_result_converts_and_checks_plain_sequences():
    face = FaceResult(Box(0, 0, 10, 10), (0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1), 0.9, None, [(1, 2)] * 5)
    assert isinstance(face.probs, EmotionProbs) and face.probs.happy == 0.4 and face.emotion == "happy"
    assert isinstance(face.landmarks, Landmarks) and face.landmarks.nose == Point(1.0, 2.0)
    with pytest.raises(ValueError, match="expected 7 probabilities"):
        FaceResult(Box(0, 0, 10, 10), (0.5, 0.5))
    with pytest.raises(ValueError, match="expected 5"):
        FaceResult(Box(0, 0, 10, 10), face.probs, landmarks=[(1, 2)] * 4)


def test_landmarks_come_from_the_cnn_in_the_images_pixels(media, recognizer):
    if recognizer.detector.name != "cnn":
        pytest.skip("the CNN detector is not installed here (Haar finds no landmarks)")
    image = cv2.imread(str(media / "multi_face.jpg"))
    large = cv2.resize(image, None, fx=2.0, fy=2.0)  # the detector shrinks it: points still in the image's pixels
    small_faces, large_faces = recognizer.analyze(image).faces, recognizer.analyze(large).faces
    assert len(small_faces) == len(large_faces) == 5
    for face in (*small_faces, *large_faces):
        points = face.landmarks
        assert isinstance(points, Landmarks) and points._fields == LANDMARK_POINTS
        box = face.box
        assert all(box.x1 <= p.x <= box.x2 and box.y1 <= p.y <= box.y2 for p in points), (box, points)
        assert points.eye_l.x < points.eye_r.x and points.mouth_l.x < points.mouth_r.x
        assert max(points.eye_l.y, points.eye_r.y) < points.nose.y < min(points.mouth_l.y, points.mouth_r.y)
        assert face.to_dict()["landmarks"]["nose"] == [round(points.nose.x, 2), round(points.nose.y, 2)]
    for small, big in zip(small_faces, large_faces, strict=True):  # both left to right
        # Twice the image, twice the coordinates, within the detector's grid (it sees a shrunk copy).
        offsets = np.subtract(big.landmarks, np.multiply(small.landmarks, 2.0))
        assert np.abs(offsets).max() < 0.1 * big.box.width, offsets
    (whole,) = emolens.analyze(image, whole_image=True).faces
    assert whole.landmarks is None and whole.to_dict()["landmarks"] is None


def test_haar_faces_have_no_landmarks(media):
    faces = Recognizer(RecognizerOptions(detector="haar")).analyze(media / "multi_face.jpg").faces
    assert faces and all(face.landmarks is None and face.to_dict()["landmarks"] is None for face in faces)


def test_stream_gives_landmarks_on_detector_frames_only(media, recognizer):
    if recognizer.detector.name != "cnn":
        pytest.skip("the CNN detector is not installed here (Haar finds no landmarks)")
    stream = recognizer.stream()  # detect_every=3: frames 0, 3, 6... run the detector, the others follow boxes
    frames = read_video_frames(media / "single_face.mp4")
    results = [stream.process(frame, time_s=i / 30) for i, frame in enumerate(frames)]
    every = RecognizerOptions().pipeline.detect_every
    for i, result in enumerate(results[3:], start=3):
        (face,) = result.faces
        # A followed box moves with the face but the points would not: they belong to the frame the detector saw.
        assert (face.landmarks is not None) == (i % every == 0), i
