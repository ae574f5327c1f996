"""Drawing: a new image, ink where the face is, Vietnamese names as real glyphs, timelines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emolens.labels import LANGUAGES, display_names
from emolens.render import COLORS_BGR, annotate, load_label_atlas, timeline_image
from emolens.types import EMOTIONS, Box, FaceResult, FrameResult
from support import shared_path

HAPPY = (0.02, 0.01, 0.02, 0.85, 0.04, 0.03, 0.03)
FACE_BOX = Box(200, 100, 320, 240)


@pytest.fixture(scope="module")
def atlas():
    return load_label_atlas()


def _result(box: Box = FACE_BOX, probs: tuple[float, ...] = HAPPY) -> FrameResult:
    return FrameResult(faces=(FaceResult(box, probs, 0.9, 1),), frame_index=0, time_s=0.0)


def test_annotate_returns_a_new_image_of_the_same_shape(atlas) -> None:
    image = np.full((360, 640, 3), 128, np.uint8)
    before = image.copy()
    out = annotate(image, _result(), "en", fps=24.0, atlas=atlas)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert out is not image
    assert np.array_equal(image, before), "the input must stay untouched"
    assert not np.array_equal(out, image)


def test_annotate_draws_the_box_in_the_emotion_colour(atlas) -> None:
    image = np.full((360, 640, 3), 128, np.uint8)
    box = Box(200, 100, 320, 240)
    out = annotate(image, _result(box), atlas=atlas, labels_only=True)
    happy = np.array(COLORS_BGR[EMOTIONS.index("happy")])
    # The left edge of the box carries the colour; the middle of the face is left alone.
    edge = out[150, box.x1]
    assert np.abs(edge.astype(int) - happy).max() <= 10
    assert np.array_equal(out[170, 260], image[170, 260])
    # Nothing drawn far from the face when bars and fps are off.
    assert np.array_equal(out[300:, 400:], image[300:, 400:])


def test_bars_are_drawn_beside_the_box(atlas) -> None:
    image = np.full((360, 640, 3), 128, np.uint8)
    box = Box(200, 100, 320, 240)
    out = annotate(image, _result(box), atlas=atlas)
    beside = out[box.y1 : box.y2, box.x2 + 4 : box.x2 + 160]
    assert (np.abs(beside.astype(int) - 128).sum(axis=2) > 30).mean() > 0.3
    # The happy bar (row 3) is the longest: it holds the most of its colour.
    happy = np.array(COLORS_BGR[EMOTIONS.index("happy")])
    assert (np.abs(beside.astype(int) - happy).max(axis=2) < 10).sum() > 50


def test_every_display_name_has_glyphs(atlas) -> None:
    for lang in LANGUAGES:
        for emotion in EMOTIONS:
            mask = atlas.name_mask(emotion, lang)
            assert mask.shape[0] > 20 and mask.shape[1] > 20
            assert (mask > 128).sum() > 50, f"{lang}:{emotion} is blank"


def test_vietnamese_labels_render_their_diacritics(atlas) -> None:
    # "buồn" and "buon" differ only in the stacked marks above the o: the glyphs above the x-height.
    vi = atlas.name_mask("sad", "vi")
    ink_rows = np.where((vi > 128).any(axis=1))[0]
    id_mask = atlas.name_mask("sad", "id")  # "sedih" has ascender d and h; marks go higher still
    assert display_names("vi")[EMOTIONS.index("sad")] == "buồn"
    assert ink_rows.min() < np.where((id_mask > 128).any(axis=1))[0].min()
    # Drawn into an image, the vi label leaves ink where cv2.putText would have written "???".
    image = np.zeros((360, 640, 3), np.uint8)
    out = annotate(image, _result(Box(200, 100, 320, 240), (0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)), "vi", atlas=atlas)
    label = out[100 - 16 : 100, 200:260]
    assert (label.max(axis=2) > 0).mean() > 0.3


def test_labels_differ_between_languages(atlas) -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    drawn = {lang: annotate(image, _result(), lang, atlas=atlas) for lang in LANGUAGES}
    assert not np.array_equal(drawn["en"], drawn["vi"])
    assert not np.array_equal(drawn["en"], drawn["id"])
    with pytest.raises(ValueError, match="language"):
        annotate(image, _result(), "xx", atlas=atlas)


def test_annotate_accepts_grey_and_faces_at_the_edges(atlas) -> None:
    grey = np.full((120, 160), 90, np.uint8)
    result = FrameResult(faces=(FaceResult(Box(0, 0, 160, 120), HAPPY), FaceResult(Box(150, 110, 200, 200), HAPPY)))
    out = annotate(grey, result, "id", fps=9.5, atlas=atlas)
    assert out.shape == (120, 160, 3)


def test_timeline_image_plots_the_track(atlas, tmp_path) -> None:
    results = []
    for i in range(48):
        probs = np.full(7, 0.02)
        probs[3 if i < 24 else 5] = 0.88
        faces = (FaceResult(Box(10, 10, 60, 60), tuple(probs), None, 4),) if i % 16 != 15 else ()
        results.append(FrameResult(faces=faces, frame_index=i, time_s=i / 24))
    chart = timeline_image(results, 4, "vi", atlas=atlas)
    assert chart.ndim == 3 and chart.shape[2] == 3
    assert cv2.imwrite(str(tmp_path / "track_4.png"), chart)
    happy = np.array(COLORS_BGR[EMOTIONS.index("happy")])
    surprise = np.array(COLORS_BGR[EMOTIONS.index("surprise")])
    left, right = chart[:, : chart.shape[1] // 3], chart[:, chart.shape[1] // 3 : -160]
    assert (np.abs(left.astype(int) - happy).max(axis=2) < 10).sum() > 100
    assert (np.abs(right.astype(int) - surprise).max(axis=2) < 10).sum() > 100
    empty = timeline_image(results, 99, atlas=atlas)
    assert empty.shape == chart.shape


def _drawn(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 0


def test_group_photo_faces_are_numbered_and_panels_cover_no_other_face(atlas, tmp_path) -> None:
    from emolens.api import Recognizer
    from emolens.render import face_numbers, label_height_px

    image = cv2.imread(str(shared_path("media", "multi_face.jpg")))
    result = Recognizer().analyze(image)
    assert len(result.faces) >= 4
    assert face_numbers(result) == list(range(1, len(result.faces) + 1))
    with_bars = annotate(image, result, atlas=atlas)
    labels_only = annotate(image, result, atlas=atlas, labels_only=True)
    cv2.imwrite(str(tmp_path / "group.png"), with_bars)
    # The inside of every face (away from its own box edge and label) is left untouched by panels and labels.
    for face in result.faces:
        b = face.box
        pad = max(6, (b.x2 - b.x1) // 5)
        inner = (slice(b.y1 + pad, b.y2 - pad), slice(b.x1 + pad, b.x2 - pad))
        assert not _drawn(image[inner], with_bars[inner]).any(), f"something covers face at {b.xyxy()}"
    # Panels add ink beyond the labels-only picture; labels only leaves most of the picture alone.
    assert _drawn(labels_only, with_bars).sum() > 1000
    assert _drawn(image, labels_only).mean() < 0.1
    # Each face's number is written in white-backed tag at its label: the tags are the whitest patches.
    label_px = label_height_px(*image.shape[:2])
    white = (with_bars.min(axis=2) == 255) & (image.min(axis=2) < 255)
    assert white.sum() > len(result.faces) * label_px


def test_labels_grow_with_the_image(atlas) -> None:
    from emolens.render import label_height_px

    assert label_height_px(360, 640) == 16
    assert label_height_px(4000, 6000) == round(4000 / 22)
    # On a 6000x4000 photo the label is as tall, relative to the picture, as on a 1000x667 one.
    big = np.full((4000, 6000, 3), 128, np.uint8)
    box = Box(2000, 1500, 2800, 2300)
    out = annotate(big, _result(box), atlas=atlas, labels_only=True)
    column = _drawn(big, out)[: box.y1, box.x1 + 40]
    assert column.sum() >= 0.8 * label_height_px(4000, 6000)


def test_faces_chart_has_one_numbered_panel_per_face(atlas) -> None:
    from emolens.render import faces_chart

    sad = (0.02, 0.01, 0.02, 0.03, 0.85, 0.04, 0.03)
    faces = tuple(FaceResult(Box(10 + 60 * i, 10, 60 + 60 * i, 60), HAPPY if i % 2 else sad) for i in range(5))
    chart = faces_chart(FrameResult(faces=faces), "id", atlas=atlas, width_px=900)
    assert chart.shape[1] == 900 and chart.shape[0] > 300  # two rows of three cells
    one = faces_chart(FrameResult(faces=faces[:1]), atlas=atlas, width_px=900)
    assert one.shape[0] < chart.shape[0]
    sad_color = np.array(COLORS_BGR[EMOTIONS.index("sad")])
    # The first panel's sad bar is the long one of its colour.
    first = chart[: chart.shape[0] // 2, :300]
    assert (np.abs(first.astype(int) - sad_color).max(axis=2) < 10).sum() > 500
