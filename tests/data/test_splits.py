"""Splits, and the PrivateTest copy without the images that also occur in Training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emolens.data import available_splits, read_fer2013_csv
from support import fer_rows


def test_dedup_removes_test_rows_duplicated_in_training(make_fer_csv: Callable[..., Path]) -> None:
    lines = fer_rows()
    training = [ln for ln in lines if ln.endswith(",Training")]
    private = [ln for ln in lines if ln.endswith(",PrivateTest")]
    public = [ln for ln in lines if ln.endswith(",PublicTest")]
    # Two PrivateTest rows and one PublicTest row copy a Training image's pixels (one with another label).
    dup_a = training[0].rsplit(",", 1)[0] + ",PrivateTest"
    dup_b = "5," + training[3].split(",")[1] + ",PrivateTest"
    dup_c = training[4].rsplit(",", 1)[0] + ",PublicTest"
    dataset = read_fer2013_csv(make_fer_csv("dups.csv", [*lines, dup_a, dup_b, dup_c]))

    full, dedup = dataset.split("PrivateTest"), dataset.split("PrivateTest-dedup")
    assert len(full) == len(private) + 2
    assert len(dedup) == len(private)
    training_images = {img.tobytes() for img in dataset.split("Training").images}
    assert not any(img.tobytes() in training_images for img in dedup.images)
    assert len(dataset.split("PublicTest-dedup")) == len(public)
    assert len(dataset.split("Training")) == len(training)


def test_duplicates_within_a_test_split_alone_stay(make_fer_csv: Callable[..., Path]) -> None:
    lines = fer_rows()
    private = [ln for ln in lines if ln.endswith(",PrivateTest")]
    dataset = read_fer2013_csv(make_fer_csv("dups.csv", [*lines, private[0]]))
    assert len(dataset.split("PrivateTest-dedup")) == len(private) + 1


def test_unknown_split_lists_the_choices(tiny_fer_csv: Path) -> None:
    dataset = read_fer2013_csv(tiny_fer_csv)
    with pytest.raises(ValueError, match="PrivateTest-dedup"):
        dataset.split("Test")
    assert available_splits() == ["Training", "PublicTest", "PrivateTest", "PublicTest-dedup", "PrivateTest-dedup"]


def test_subset_keeps_arrays_aligned(tiny_fer_csv: Path) -> None:
    dataset = read_fer2013_csv(tiny_fer_csv)
    sub = dataset.subset(dataset.labels == 3)
    assert set(sub.labels.tolist()) == {3}
    assert len(sub.images) == len(sub.usage) == len(sub)
    np.testing.assert_array_equal(sub.images, dataset.images[dataset.labels == 3])
