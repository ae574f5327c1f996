"""Each detector's crop mapping: the arithmetic, and a re-measurement on FER2013 that must agree with the
committed numbers (benchmarks/measure_crop_margin.py, docs/crop-margin.md)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from emolens.runtime.detectors import CropMapping, crop_face, make_detector
from emolens.runtime.detectors.cnn import CNN_CROP
from emolens.runtime.detectors.haar import HAAR_CROP
from emolens.types import Box, Detection
from support import REPO, shared_path


def test_the_square_scales_and_shifts_with_the_box_side():
    box = Box(100, 50, 180, 150)  # 80 wide, 100 tall: the longer side counts
    assert CropMapping().square(box) == (90, 50, 100)
    assert CropMapping(side_scale=0.9, shift_y=0.1).square(box) == (95, 65, 90)  # centre 10 px lower, side 90
    assert CropMapping(side_scale=0.9).square(box, margin=0.25) == (72, 32, 135)  # the margin on top of the mapping


def test_crop_face_follows_the_mapping_and_repeats_the_edge():
    image = np.tile(np.arange(200, dtype=np.uint8), (200, 1))
    crop = crop_face(image, Detection(Box(0, 80, 40, 120)), CropMapping(side_scale=1.5, shift_x=-0.25))
    assert crop.shape == (60, 60)  # 1.5 x 40, centred 10 px left of the box: x from -20 to 40
    assert np.all(crop[:, :20] == 0) and np.all(crop[:, 20:] == np.arange(40))
    with pytest.raises(ValueError, match="outside"):
        crop_face(image, Detection(Box(400, 400, 440, 440)), CropMapping())


@pytest.fixture(scope="module")
def measure():
    spec = importlib.util.spec_from_file_location("measure_crop_margin", REPO / "benchmarks" / "measure_crop_margin.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def public_test_faces(measure) -> np.ndarray:
    """The first 120 PublicTest images, read once for both detectors (the csv is read up to them, about 10 s)."""
    images, _ = measure.public_test(shared_path("data", "fer2013", "fer2013.csv.xz"), 120)
    return images


@pytest.mark.parametrize(
    ("name", "mapping"),
    [("haar", HAAR_CROP), ("cnn", CNN_CROP)],
)
def test_the_committed_mapping_matches_fer2013(measure, public_test_faces, name, mapping):
    """On 120 PublicTest faces the medians land within a few per cent of the committed mapping (measured on 600)."""
    offsets = measure.box_offsets(make_detector(name, min_face_px=24 * measure.UPSCALE), public_test_faces)
    assert len(offsets) > 80
    scale, dx, dy = np.median(offsets, axis=0)
    assert abs(scale - mapping.side_scale) < 0.05
    assert abs(dx - mapping.shift_x) < 0.03 and abs(dy - mapping.shift_y) < 0.03
