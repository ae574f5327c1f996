"""`emolens eval` as a user runs it, on the tiny synthetic set, for .onnx files, checkpoints and `fast`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.data import read_fer2013_csv
from emolens.evaluate import classification_metrics, predict_probs
from emolens.types import EMOTIONS
from support import fer_rows, write_fer_csv

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _json(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def tiny_csv(trained_run: Path) -> Path:
    return trained_run.parent / "tiny.csv"


@pytest.mark.parametrize("kind", ["onnx", "checkpoint"])
def test_eval_prints_tables(kind: str, trained_run: Path, tiny_onnx: Path, tiny_csv: Path, emolens_cli: Cli) -> None:
    model = tiny_onnx if kind == "onnx" else trained_run / "best.pt"
    done = emolens_cli("eval", model, "--data", tiny_csv, "--no-cache")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"({kind}, mini_xception)" in out and "split PrivateTest  n 14" in out
    for heading in ("accuracy", "macro-F1", "precision", "recall", "confusion matrix (rows: true, columns: predicted)"):
        assert heading in out
    for name in EMOTIONS:
        assert sum(line.startswith(name) for line in out.splitlines()) == 2  # per-class row and confusion row


def test_onnx_and_checkpoint_agree_and_match_the_library(
    trained_run: Path, tiny_onnx: Path, tiny_csv: Path, emolens_cli: Cli
) -> None:
    from_onnx = _json(emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--json", "--no-cache"))
    from_pt = _json(emolens_cli("eval", trained_run / "best.pt", "--data", tiny_csv, "--json", "--no-cache"))
    assert from_onnx["kind"] == "onnx" and from_pt["kind"] == "checkpoint"
    assert from_onnx["confusion_matrix"] == from_pt["confusion_matrix"]
    assert from_onnx["n"] == 14 and sum(map(sum, from_onnx["confusion_matrix"])) == 14
    test = read_fer2013_csv(tiny_csv).split("PrivateTest")
    expected = classification_metrics(test.labels, predict_probs(tiny_onnx, test.images))
    assert from_onnx["accuracy"] == pytest.approx(expected.accuracy, abs=1e-6)
    assert from_onnx["macro_f1"] == pytest.approx(expected.macro_f1, abs=1e-6)
    assert from_onnx["confusion_matrix"] == expected.confusion.tolist()


def test_out_folder_gets_metrics_confusion_and_reliability(
    tiny_onnx: Path, tiny_csv: Path, tmp_path: Path, emolens_cli: Cli
) -> None:
    out = tmp_path / "eval"
    report = _json(
        emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--split", "PrivateTest-dedup", "--calibration",
                    "--json", "--out", out, "--no-cache")
    )  # fmt: skip
    assert sorted(report["files"]) == ["confusion_matrix.png", "eval_metrics.json", "reliability.png"]
    assert json.loads((out / "eval_metrics.json").read_text()) == report
    for png in ("confusion_matrix.png", "reliability.png"):
        image = cv2.imread(str(out / png))
        assert image is not None and min(image.shape[:2]) > 200
    calibration = report["calibration"]
    assert calibration["fitted_on"] == "PublicTest"
    assert calibration["temperature_relative"] > 0
    assert calibration["temperature_for_export"] == pytest.approx(calibration["temperature_relative"], rel=1e-3)
    assert 0 <= calibration["ece_after"] <= 1 and 0 <= calibration["ece_before"] <= 1


def test_calibration_lowers_nll_on_the_split_it_was_fitted_on(
    tiny_onnx: Path, tiny_csv: Path, emolens_cli: Cli
) -> None:
    report = _json(
        emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--split", "PublicTest", "--calibration", "--json")
    )
    calibration = report["calibration"]
    assert calibration["nll_after"] <= calibration["nll_before"] + 1e-9
    assert calibration["accuracy_after"] == report["accuracy"]  # a temperature never changes the argmax
    assert (
        "optimistic"
        in emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--split", "PublicTest", "--calibration").stderr
    )


def test_jitter_table_has_one_row_per_kind_and_all(tiny_onnx: Path, tiny_csv: Path, emolens_cli: Cli) -> None:
    done = emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--jitter")
    assert done.returncode == 0, done.stderr
    assert "accuracy under detector-like jitter" in done.stdout
    report = _json(emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--jitter", "--json"))
    kinds = [row["kind"] for row in report["jitter"]]
    assert kinds == ["none", "shift", "scale", "rotation", "blur", "brightness", "all"]
    assert report["jitter"][0]["accuracy"] == report["accuracy"]
    again = _json(emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--jitter", "--json"))
    assert again["jitter"] == report["jitter"]  # seeded: the same table every time


def test_flip_tta_is_accepted_and_recorded(tiny_onnx: Path, tiny_csv: Path, emolens_cli: Cli) -> None:
    report = _json(emolens_cli("eval", tiny_onnx, "--data", tiny_csv, "--tta", "flip", "--json"))
    assert report["tta"] == "flip" and report["n"] == 14


def test_a_model_with_flip_inside_is_not_flipped_twice(
    trained_run: Path, tiny_csv: Path, tmp_path: Path, emolens_cli: Cli
) -> None:
    flip_model = tmp_path / "flip.onnx"
    assert emolens_cli("export", trained_run / "best.pt", "--tta", "flip", "--out", flip_model).returncode == 0
    report = _json(emolens_cli("eval", flip_model, "--data", tiny_csv, "--json"))
    assert report["architecture"] == "mini_xception+flip" and report["n"] == 14
    done = emolens_cli("eval", flip_model, "--data", tiny_csv, "--tta", "flip")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("already averages each face with its mirror; drop --tta flip")


def test_image_folders_are_evaluated_on_their_test_folder(
    tiny_onnx: Path, tiny_image_folders: Path, emolens_cli: Cli
) -> None:
    report = _json(emolens_cli("eval", tiny_onnx, "--data", tiny_image_folders, "--json"))
    assert report["split"] == "PrivateTest" and report["n"] == 14
    assert [c["support"] for c in report["per_class"].values()] == [2] * 7
    done = emolens_cli("eval", tiny_onnx, "--data", tiny_image_folders, "--calibration")
    assert done.returncode == 2 and "no PublicTest (validation) rows" in done.stderr


def test_shipped_model_by_name(tiny_csv: Path, emolens_cli: Cli) -> None:
    report = _json(emolens_cli("eval", "fast", "--data", tiny_csv, "--json"))
    assert report["kind"] == "onnx" and report["model"].endswith("emolens-fast.onnx") and report["n"] == 14


def test_on_bad_row(tmp_path: Path, tiny_onnx: Path, emolens_cli: Cli) -> None:
    lines = fer_rows()
    lines.append("0," + lines[-1].split(",")[1] + ",Test")
    data = write_fer_csv(tmp_path / "bad.csv", lines)
    failed = emolens_cli("eval", tiny_onnx, "--data", data, "--no-cache")
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines()[-1] == (
        f"emolens: error: {data}:{len(lines) + 1}: unknown Usage 'Test'; "
        "expected one of Training, PublicTest, PrivateTest"
    )
    skipped = emolens_cli("eval", tiny_onnx, "--data", data, "--on-bad-row", "skip", "--json")
    assert _json(skipped)["skipped_rows"] == 1 and "1 malformed rows skipped" in skipped.stderr


def test_on_bad_row_skips_unreadable_images_too(tiny_image_folders: Path, tiny_onnx: Path, emolens_cli: Cli) -> None:
    bad = tiny_image_folders / "test" / "happy" / "truncated.jpg"
    bad.write_bytes(cv2.imencode(".jpg", np.full((48, 48), 128, np.uint8))[1].tobytes()[:20])
    failed = emolens_cli("eval", tiny_onnx, "--data", tiny_image_folders)
    assert failed.returncode == 2 and failed.stderr.strip().splitlines()[-1].endswith(f"{bad}: unreadable image")
    skipped = emolens_cli("eval", tiny_onnx, "--data", tiny_image_folders, "--on-bad-row", "skip", "--json")
    report = _json(skipped)
    assert (
        report["skipped_files"] == 1
        and report["n"] == 14
        and f"1 unreadable images skipped (first: {bad})" in skipped.stderr
    )


@pytest.mark.parametrize("model", ["missing.onnx", "missing.pt", "not-a-model.onnx"])
def test_bad_model_is_a_one_line_error(model: str, tmp_path: Path, tiny_csv: Path, emolens_cli: Cli) -> None:
    path = tmp_path / model
    if model.startswith("not"):
        path.write_bytes(np.arange(100, dtype=np.uint8).tobytes())
    done = emolens_cli("eval", path, "--data", tiny_csv)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"emolens: error: {path}: ")


def test_evaluating_an_onnx_model_never_imports_torch(tiny_onnx: Path, tiny_csv: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from emolens.cli import main; "
        f"rc = main(['eval', {str(tiny_onnx)!r}, '--data', {str(tiny_csv)!r}, '--no-cache', '--calibration', "
        f"'--jitter', '--out', {str(tmp_path / 'out')!r}]); "
        "sys.exit(10 if 'torch' in sys.modules else rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"rc {done.returncode} (10: torch was imported)\n{done.stderr}"
    assert (tmp_path / "out" / "reliability.png").exists()
