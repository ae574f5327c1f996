from __future__ import annotations

import numpy as np
import pytest
from moving_face import moving_boxes, scene, texture

from emolens.runtime.classifier import EmotionClassifier
from emolens.runtime.detectors import CropMapping, crop_face
from emolens.runtime.pipeline import DEFAULT_CROP_MARGIN, FramePipeline, PipelineOptions
from emolens.runtime.registry import model_path
from emolens.types import Box, Detection

IDENTITY = CropMapping()


def crop_with_margin(image: np.ndarray, box: Box, margin: float) -> np.ndarray:
    return crop_face(image, Detection(box), IDENTITY, margin)


class CountingDetector:
    """A real object with the FaceDetector interface: a fixed face, and a count of calls (for detect_every)."""

    name = "counting"
    crop = IDENTITY

    def __init__(self, box: Box) -> None:
        self.box = box
        self.calls = 0

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        self.calls += 1
        return [Detection(self.box, 0.9)]


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier(model_path("fast"))


def test_crop_margin_grows_the_box_into_a_square():
    image = np.arange(100 * 100, dtype=np.uint16).reshape(100, 100)
    assert crop_with_margin(image, Box(40, 40, 60, 60), 0.0).shape == (20, 20)
    crop = crop_with_margin(image, Box(40, 40, 60, 60), 0.25)
    assert crop.shape == (30, 30)
    assert crop[0, 0] == image[35, 35]
    assert crop_with_margin(image, Box(40, 30, 60, 70), 0.0).shape == (40, 40)  # tall box -> square


def test_crop_past_the_edge_repeats_the_edge():
    image = np.tile(np.arange(50, dtype=np.uint8), (50, 1))
    crop = crop_with_margin(image, Box(0, 0, 20, 20), 0.5)
    assert crop.shape == (40, 40)
    assert np.all(crop[:, :10] == 0)  # left of the frame: the first column again


def test_default_margin_is_the_measured_one():
    assert abs(DEFAULT_CROP_MARGIN) <= 0.05  # docs/crop-margin.md


def test_detect_every_runs_the_detector_on_every_kth_frame(classifier):
    detector = CountingDetector(Box(10, 10, 60, 60))
    pipeline = FramePipeline(detector, classifier, PipelineOptions(detect_every=3, min_hits=1, follow=False))
    frames = np.random.default_rng(0).integers(0, 256, (7, 80, 80, 3), dtype=np.uint8)
    results = [pipeline.process(frame, time_s=i / 10) for i, frame in enumerate(frames)]
    assert detector.calls == 3  # frames 0, 3, 6
    assert [r.frame_index for r in results] == list(range(7))
    assert all(len(r.faces) == 1 and r.faces[0].track_id == 1 and r.faces[0].score == 0.9 for r in results)
    assert results[5].time_s == pytest.approx(0.5)


class ScriptedDetector:
    """A real FaceDetector whose boxes per call are given in advance (a face, and a short-lived false box)."""

    name = "scripted"
    crop = IDENTITY

    def __init__(self, script: list[list[Box]]) -> None:
        self.script = script
        self.calls = 0

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        boxes = self.script[self.calls] if self.calls < len(self.script) else []
        self.calls += 1
        return [Detection(box, 0.8) for box in boxes]


def test_a_face_is_reported_from_its_min_hits_th_frame_and_a_short_false_box_never(classifier):
    face, wall = Box(10, 10, 60, 60), Box(100, 20, 140, 60)
    script = [[face]] * 3 + [[face, wall]] * 3 + [[face]] * 4
    pipeline = FramePipeline(ScriptedDetector(script), classifier, PipelineOptions(detect_every=1, min_hits=4))
    frames = np.random.default_rng(4).integers(0, 256, (10, 80, 160, 3), dtype=np.uint8)
    results = [pipeline.process(frame) for frame in frames]
    assert [len(r.faces) for r in results] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert {f.track_id for r in results for f in r.faces} == {1}
    assert all(f.box == face for r in results for f in r.faces)


def test_between_detector_runs_boxes_follow_a_moving_face(classifier):
    truth = moving_boxes(9, dx=8, dy=3)
    detector = ScriptedDetector([[box] for box in truth[::3]])
    frames = [scene(box, texture(100)) for box in truth]
    followed = FramePipeline(detector, classifier, PipelineOptions(detect_every=3, min_hits=1))
    results = [followed.process(frame) for frame in frames]
    assert detector.calls == 3
    assert all(r.faces[0].box.iou(box) > 0.9 for r, box in zip(results, truth, strict=True))
    reused = FramePipeline(ScriptedDetector(detector.script), classifier,
                           PipelineOptions(detect_every=3, min_hits=1, follow=False))  # fmt: skip
    stale = [reused.process(frame).faces[0].box for frame in frames]
    assert stale[2] == truth[0] and stale[2].iou(truth[2]) < 0.7


def test_whole_image_mode_skips_the_detector(classifier):
    detector = CountingDetector(Box(0, 0, 1, 1))
    pipeline = FramePipeline(detector, classifier, PipelineOptions(whole_image=True))
    result = pipeline.process(np.zeros((48, 64, 3), np.uint8), time_s=0.0, frame_index=41)
    assert detector.calls == 0
    assert result.frame_index == 41
    (face,) = result.faces
    assert face.box == Box(0, 0, 64, 48) and face.score is None
    assert sum(face.probs) == pytest.approx(1.0, abs=1e-5)


def test_smoothing_averages_a_track_and_reset_starts_over(classifier):
    detector = CountingDetector(Box(0, 0, 48, 48))
    frames = np.random.default_rng(2).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    raw = classifier.predict(list(frames))
    pipeline = FramePipeline(detector, classifier, PipelineOptions(smoothing_alpha=0.5, detect_every=1, min_hits=1))
    first = pipeline.process(frames[0])
    second = pipeline.process(frames[1])
    np.testing.assert_allclose(first.faces[0].probs, raw[0], atol=1e-5)
    expected = (raw[0] + raw[1]) / 2
    np.testing.assert_allclose(second.faces[0].probs, expected / expected.sum(), atol=1e-5)
    pipeline.reset()
    again = pipeline.process(frames[1])
    np.testing.assert_allclose(again.faces[0].probs, raw[1], atol=1e-5)
    assert again.frame_index == 0


def test_no_smoothing_gives_raw_probabilities(classifier):
    detector = CountingDetector(Box(0, 0, 48, 48))
    frames = np.random.default_rng(3).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    pipeline = FramePipeline(detector, classifier, PipelineOptions(smooth=False, detect_every=1, min_hits=1))
    pipeline.process(frames[0])
    np.testing.assert_allclose(
        pipeline.process(frames[1]).faces[0].probs, classifier.predict([frames[1]])[0], atol=1e-5
    )


def test_a_face_one_detector_run_misses_is_carried_over_once(classifier):
    face = Box(10, 10, 60, 60)
    # Detector runs on frames 0, 3, 6, 9, 12, 15: it misses the face on frame 6, then on 12 and 15.
    detector = ScriptedDetector([[face], [face], [], [face], [], []])
    pipeline = FramePipeline(detector, classifier, PipelineOptions(detect_every=3, min_hits=4))
    frames = np.random.default_rng(5).integers(0, 256, (18, 80, 80, 3), dtype=np.uint8)
    counts = [len(pipeline.process(frame).faces) for frame in frames]
    assert counts[:12] == [0, 0, 0] + [1] * 9  # confirmed on frame 3, kept over the miss on frame 6
    assert counts[12:] == [1, 1, 1, 0, 0, 0]  # missed twice in a row: gone after one detector interval
    assert detector.calls == 6


def test_without_following_a_missed_face_is_not_carried_over(classifier):
    face = Box(10, 10, 60, 60)
    detector = ScriptedDetector([[face], [face], []])
    pipeline = FramePipeline(detector, classifier, PipelineOptions(detect_every=3, min_hits=4, follow=False))
    frames = np.random.default_rng(6).integers(0, 256, (9, 80, 80, 3), dtype=np.uint8)
    assert [len(pipeline.process(frame).faces) for frame in frames] == [0, 0, 0, 1, 1, 1, 0, 0, 0]
