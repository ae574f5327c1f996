from __future__ import annotations

import numpy as np
import pytest

from emolens.runtime.smoother import EmaSmoother


def onehot(i: int) -> np.ndarray:
    row = np.zeros(7, np.float32)
    row[i] = 1.0
    return row


def test_first_frame_of_a_track_passes_unchanged():
    probs = np.array([onehot(3), onehot(0)])
    out = EmaSmoother(0.5).update([1, 2], probs)
    np.testing.assert_allclose(out, probs)


def test_moving_average_per_track_and_rows_sum_to_one():
    smoother = EmaSmoother(0.25)
    smoother.update([1, 2], np.array([onehot(3), onehot(0)]))
    out = smoother.update([2, 1], np.array([onehot(5), onehot(4)]))
    np.testing.assert_allclose(out[0][[0, 5]], [0.75, 0.25], atol=1e-6)  # track 2: 0 then 5
    np.testing.assert_allclose(out[1][[3, 4]], [0.75, 0.25], atol=1e-6)  # track 1: 3 then 4
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)


def test_renormalises_inputs_that_do_not_sum_to_one():
    smoother = EmaSmoother(0.5)
    smoother.update([1], np.full((1, 7), 1 / 7, np.float32))
    out = smoother.update([1], np.full((1, 7), 0.5, np.float32))
    np.testing.assert_allclose(out.sum(), 1.0, atol=1e-6)


def test_forgotten_and_new_tracks_start_fresh():
    smoother = EmaSmoother(0.5)
    smoother.update([1], onehot(3)[None])
    smoother.forget([1])
    assert smoother.track_ids == ()
    np.testing.assert_allclose(smoother.update([1], onehot(6)[None])[0], onehot(6))
    np.testing.assert_allclose(smoother.update([7], onehot(2)[None])[0], onehot(2))


def test_alpha_one_is_no_smoothing():
    smoother = EmaSmoother(1.0)
    smoother.update([1], onehot(3)[None])
    np.testing.assert_allclose(smoother.update([1], onehot(4)[None])[0], onehot(4))


def test_bad_alpha_and_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        EmaSmoother(0.0)
    with pytest.raises(ValueError, match="2 track ids but 1"):
        EmaSmoother().update([1, 2], onehot(0)[None])
