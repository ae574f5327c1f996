"""research/compare_networks.py's sign test counts only the faces on which two networks disagree."""

from __future__ import annotations

import numpy as np
import pytest

from support import load_script


def test_sign_test_counts_the_faces_that_changed() -> None:
    before = np.array([True, True, False, False, True, False])
    after = np.array([True, False, True, True, True, True])
    only_after, only_before, z = load_script("compare_networks").sign_test(before, after)
    assert (only_after, only_before) == (3, 1)
    assert z == pytest.approx(2 / np.sqrt(4))


def test_identical_networks_are_zero_standard_errors_apart() -> None:
    right = np.array([True, False, True])
    assert load_script("compare_networks").sign_test(right, right) == (0, 0, 0.0)
