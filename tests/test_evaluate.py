"""Metrics, calibration and jitter of emolens.evaluate, checked against values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emolens.evaluate import (
    JITTER_KINDS,
    as_logits,
    classification_metrics,
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    jitter_images,
    nll,
    predict_probs,
    reliability_bins,
    softmax,
)
from emolens.report_files import read_training_log


def test_confusion_matrix_rows_are_true_columns_predicted() -> None:
    cm = confusion_matrix(np.array([0, 0, 1, 6]), np.array([0, 1, 1, 0]))
    assert cm.shape == (7, 7) and cm.sum() == 4
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[1, 1] == 1 and cm[6, 0] == 1


def test_metrics_by_hand() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2, 3, 4, 5, 6])
    y_pred = np.array([0, 0, 1, 1, 0, 2, 3, 4, 5, 5])
    m = classification_metrics(y_true, y_pred)
    assert m.accuracy == pytest.approx(0.7)
    # angry: tp 2, predicted 3, support 3; disgust: tp 1, predicted 2, support 2; neutral never predicted.
    assert m.precision[0] == pytest.approx(2 / 3) and m.recall[0] == pytest.approx(2 / 3)
    assert m.precision[1] == pytest.approx(1 / 2) and m.recall[1] == pytest.approx(1 / 2)
    assert m.precision[5] == pytest.approx(1 / 2) and m.recall[5] == 1.0
    assert m.precision[6] == 0.0 and m.recall[6] == 0.0 and m.f1[6] == 0.0
    expected_f1 = [2 / 3, 1 / 2, 1, 1, 1, 2 / 3, 0]
    np.testing.assert_allclose(m.f1, expected_f1)
    assert m.macro_f1 == pytest.approx(np.mean(expected_f1))
    assert m.support.tolist() == [3, 2, 1, 1, 1, 1, 1] and m.n == 10


def test_metrics_from_probabilities_use_the_argmax_and_serialise() -> None:
    probs = np.eye(7, dtype=np.float32)[[3, 3, 0]] * 0.9 + 0.1 / 7
    m = classification_metrics(np.array([3, 2, 0]), probs)
    assert m.accuracy == pytest.approx(2 / 3)
    d = json.loads(json.dumps(m.to_dict()))
    assert d["confusion_matrix"][2][3] == 1 and d["per_class"]["happy"]["precision"] == 0.5
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        classification_metrics(np.array([0, 1, 2]), np.array([0, 1]))


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_model() -> None:
    # 10 answers at confidence 0.8, 8 of them right: calibrated, ECE 0.
    probs = np.full((10, 7), 0.2 / 6)
    probs[:, 0] = 0.8
    labels = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)
    # The same confidence with only half right: |0.5 - 0.8| = 0.3.
    labels = np.array([0] * 5 + [1] * 5)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.3)
    bins = reliability_bins(probs, labels)
    assert len(bins.count) == 15 and bins.count.sum() == 10 and (bins.count > 0).sum() == 1


def test_ece_weights_bins_by_count() -> None:
    probs = np.full((4, 7), 0.0)
    probs[:3, 0] = 1.0  # 3 at confidence 1.0, all right
    probs[3, :] = 1 / 7  # 1 at confidence 1/7, wrong
    labels = np.array([0, 0, 0, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.25 * (1 / 7))


def _sample(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One label per row drawn from its probabilities (inverse CDF)."""
    cdf = np.cumsum(probs.astype(np.float64), axis=1)
    return np.minimum((rng.random((len(probs), 1)) * cdf[:, -1:] > cdf).sum(axis=1), 6)


def test_fit_temperature_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 7))
    true_t = 2.0
    labels = _sample(softmax(logits, true_t), rng)
    fitted = fit_temperature(logits, labels)
    assert fitted == pytest.approx(true_t, rel=0.1)
    assert nll(softmax(logits, fitted), labels) <= nll(softmax(logits, 1.0), labels)


def test_temperature_on_probabilities_is_relative_to_the_models_own() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=3.0, size=(3000, 7))
    labels = _sample(softmax(logits, 1.5), rng)
    model_probs = softmax(logits, 0.5)  # a model exported with temperature 0.5
    relative = fit_temperature(as_logits(model_probs), labels)
    assert 0.5 * relative == pytest.approx(1.5, rel=0.1)


def test_jitter_is_deterministic_and_each_kind_changes_images() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 48, 48), dtype=np.uint8)
    for kind in JITTER_KINDS:
        a = jitter_images(images, [kind], seed=3)
        assert a.shape == images.shape and a.dtype == np.uint8
        np.testing.assert_array_equal(a, jitter_images(images, [kind], seed=3))
        assert not np.array_equal(a, images), kind
    np.testing.assert_array_equal(jitter_images(images, [], seed=3), images)
    with pytest.raises(ValueError, match="unknown jitter kind"):
        jitter_images(images, ["melt"])


def test_flip_tta_on_mirror_symmetric_faces_changes_nothing(tiny_onnx: Path) -> None:
    half = np.random.default_rng(0).integers(0, 256, (5, 48, 24), dtype=np.uint8)
    symmetric = np.concatenate([half, half[:, :, ::-1]], axis=2)
    plain = predict_probs(tiny_onnx, symmetric)
    flipped = predict_probs(tiny_onnx, symmetric, tta="flip")
    np.testing.assert_allclose(plain, flipped, atol=1e-6)
    assert plain.shape == (5, 7) and plain.dtype == np.float32


def test_predictions_do_not_depend_on_batch_size(tiny_onnx: Path, trained_run: Path) -> None:
    faces = np.random.default_rng(4).integers(0, 256, (23, 48, 48), dtype=np.uint8)
    whole = predict_probs(tiny_onnx, faces, batch_size=256)
    np.testing.assert_allclose(predict_probs(tiny_onnx, faces, batch_size=5), whole, atol=1e-6)
    np.testing.assert_allclose(predict_probs(trained_run / "best.pt", faces), whole, atol=1e-4)


def test_training_log_keeps_the_last_row_of_a_repeated_epoch(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds\n"
        "1,0.1,2.0,0.2,1.9,0.25,3\n2,0.1,9,0,9,0,3\n2,0.1,1.5,0.4,1.6,0.35,3\n"
    )
    rows = read_training_log(log)
    assert [r["epoch"] for r in rows] == [1.0, 2.0] and rows[1]["val_acc"] == 0.35


def test_flip_tta_averages_each_face_with_its_mirror_image(tiny_onnx: Path) -> None:
    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    plain = predict_probs(tiny_onnx, faces)
    mirrored = predict_probs(tiny_onnx, np.ascontiguousarray(faces[:, :, ::-1]))
    assert not np.allclose(plain, mirrored, atol=1e-4)  # otherwise this test could not tell flip from no flip
    np.testing.assert_allclose(predict_probs(tiny_onnx, faces, tta="flip"), (plain + mirrored) / 2, atol=1e-6)
