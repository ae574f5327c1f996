"""`emolens train` as a user runs it: a one-epoch run, --resume, and a run killed mid-way then resumed."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

from support import TINY_TRAIN_ARGS, emolens_command, fer_rows, write_fer_csv

#: Tests that run `emolens train` itself; without torch it answers with the missing-extra line instead
#: (tests/cli/test_missing_packages.py checks that line).
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="training needs torch (the train extra)"
)

LOG_FIELDS = ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]


def _log_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "log.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == LOG_FIELDS
        return list(reader)


def _check_reports(run: Path, epochs: int) -> dict[str, object]:
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == "PublicTest"
    assert metrics["n"] == 14  # the tiny set's PublicTest; PrivateTest is never scored by training
    assert metrics["epochs_run"] == epochs and 1 <= metrics["best_epoch"] <= epochs
    assert metrics["accuracy"] == metrics["PublicTest_acc"]
    assert set(metrics["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert sum(map(sum, metrics["confusion_matrix"])) == 14
    assert sorted(metrics["files"]) == ["confusion_matrix.png", "metrics.json", "training_curves.png"]
    for png in ("confusion_matrix.png", "training_curves.png"):
        image = cv2.imread(str(run / png))
        assert image is not None and image.shape[0] > 200 and image.shape[1] > 200
    return metrics


def test_one_epoch_run_writes_checkpoints_log_and_reports(trained_run: Path) -> None:
    for name in ("best.pt", "last.pt", "train.json"):
        assert (trained_run / name).stat().st_size > 0
    rows = _log_rows(trained_run)
    assert [r["epoch"] for r in rows] == ["1"]
    assert 0.0 <= float(rows[0]["val_acc"]) <= 1.0
    metrics = _check_reports(trained_run, epochs=1)
    # The report scores best.pt in float32; the log scored it during training (maybe in bfloat16).
    assert abs(metrics["accuracy"] - float(rows[0]["val_acc"])) <= 2 / 14


def test_resume_continues_to_more_epochs(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    data = trained_run.parent / "tiny.csv"
    # A kill after epoch 2's log row but before its checkpoint leaves a row that resume must not keep twice.
    with open(run / "log.csv", "a") as f:
        f.write("2,0.05,9,0,9,0,1\n")
    done = emolens_cli("train", "--data", data, "--out", run, "--epochs", "2", "--resume", *TINY_TRAIN_ARGS)
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stderr
    rows = _log_rows(run)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[1]["train_loss"] != "9"
    _check_reports(run, epochs=2)
    assert json.loads((run / "train.json").read_text())["epochs_run"] == 2


def _start(data: Path, out: Path, epochs: int, cache: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*emolens_command(), "train", "--data", str(data), "--out", str(out), "--epochs", str(epochs),
         *TINY_TRAIN_ARGS, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(cache)},
    )  # fmt: skip


@needs_torch
def test_killed_run_resumes_and_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    # Enough rows that an epoch takes a moment, so the kill lands mid-run.
    data = write_fer_csv(tmp_path / "data.csv", fer_rows((("Training", 280), ("PublicTest", 14), ("PrivateTest", 7))))
    epochs = 4
    killed = tmp_path / "killed"
    proc = _start(data, killed, epochs, tmp_path / "cache")
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (killed / "log.csv").exists() and len((killed / "log.csv").read_text().splitlines()) >= 2:
                break
            time.sleep(0.01)
        if proc.poll() is not None:
            pytest.fail(f"training ended before it could be killed:\n{proc.stderr.read() if proc.stderr else ''}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done_before = len(_log_rows(killed))
    assert 1 <= done_before < epochs, "the kill should land between the first and the last epoch"
    assert not (killed / "metrics.json").exists()

    resumed = subprocess.run(
        [*emolens_command(), "train", "--data", str(data), "--out", str(killed), "--epochs", str(epochs),
         "--resume", *TINY_TRAIN_ARGS],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    killed_rows = _log_rows(killed)
    assert [r["epoch"] for r in killed_rows] == [str(e) for e in range(1, epochs + 1)], "no epoch lost or repeated"
    _check_reports(killed, epochs=epochs)

    straight = tmp_path / "straight"
    whole = _start(data, straight, epochs, tmp_path / "cache")
    _, stderr = whole.communicate(timeout=300)
    assert whole.returncode == 0, stderr
    # Resuming restores model, optimiser, schedule and random state: the same numbers as one unbroken run.
    for a, b in zip(_log_rows(straight), killed_rows, strict=True):
        assert a["train_loss"] == b["train_loss"] and a["val_acc"] == b["val_acc"] and a["lr"] == b["lr"]


@needs_torch
def test_bad_data_is_a_one_line_error_naming_file_and_line(
    tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    lines = fer_rows()
    lines.insert(2, "3,1 2 3,Training")
    data = write_fer_csv(tmp_path / "broken.csv", lines)
    done = emolens_cli("train", "--data", data, "--out", tmp_path / "run", "--epochs", "1", *TINY_TRAIN_ARGS)
    assert done.returncode == 2
    error_lines = [ln for ln in done.stderr.splitlines() if ln.startswith("emolens: error:")]
    assert error_lines == [f"emolens: error: {data}:4: expected 2304 pixels, found 3"]
    assert not (tmp_path / "run" / "best.pt").exists()


@needs_torch
def test_on_bad_row_skip_trains_on_the_rest(
    tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    lines = fer_rows()
    lines.insert(2, "3,1 2 3,Training")
    data = write_fer_csv(tmp_path / "broken.csv", lines)
    run = tmp_path / "run"
    done = emolens_cli("train", "--data", data, "--out", run, "--epochs", "1", "--on-bad-row", "skip", *TINY_TRAIN_ARGS)
    assert done.returncode == 0, done.stderr
    assert "1 malformed rows skipped" in done.stderr
    assert (run / "best.pt").exists() and (run / "metrics.json").exists()


def _train_one_epoch(
    emolens_cli: Callable[..., subprocess.CompletedProcess[str]], trained_run: Path, out: Path, *args: object
) -> subprocess.CompletedProcess[str]:
    """`emolens train` for one epoch on the tiny set that `trained_run` was trained on; ARGS go last, so they win."""
    data = trained_run.parent / "tiny.csv"
    return emolens_cli("train", "--data", data, "--out", out, "--epochs", "1", *TINY_TRAIN_ARGS, *args)


def _assert_one_line_error(done: subprocess.CompletedProcess[str], message: str, out: Path) -> None:
    assert done.returncode == 2
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("emolens: error: ") and message in last_line
    assert not (out / "last.pt").exists()


def test_distillation_from_a_teacher_checkpoint(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    teacher = trained_run / "best.pt"
    run = tmp_path / "student"
    args = ("--teacher", teacher, "--distill-weight", "0.7", "--distill-temperature", "3")
    done = _train_one_epoch(emolens_cli, trained_run, run, *args)
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "train.json").read_text())["config"]
    assert config["teachers"] == [str(teacher)]
    assert config["distill_weight"] == 0.7 and config["distill_temperature"] == 3.0
    assert [r["epoch"] for r in _log_rows(run)] == ["1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--distill-weight", "0.5"), "needs both teachers", id="weight-without-teacher"),
        pytest.param(("--teacher", "{teacher}"), "needs both teachers", id="teacher-without-weight"),
        pytest.param(("--teacher", "{teacher}", "--distill-weight", "2"), "between 0 and 1", id="weight-above-one"),
    ],
)
def test_distillation_flags_that_do_not_go_together_are_a_one_line_error(
    args: tuple[str, ...],
    message: str,
    trained_run: Path,
    tmp_path: Path,
    emolens_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    argv = [a.format(teacher=trained_run / "best.pt") for a in args]
    done = _train_one_epoch(emolens_cli, trained_run, tmp_path / "r", *argv)
    _assert_one_line_error(done, message, tmp_path / "r")


def test_cutmix_run_records_its_alpha_and_mixup_with_it_is_a_one_line_error(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = _train_one_epoch(emolens_cli, trained_run, tmp_path / "cutmix", "--cutmix", "1.0")
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "cutmix" / "train.json").read_text())["config"]
    assert config["cutmix_alpha"] == 1.0 and config["mixup_alpha"] == 0.0
    both = _train_one_epoch(emolens_cli, trained_run, tmp_path / "both", "--cutmix", "1.0", "--mixup", "0.2")
    _assert_one_line_error(both, "not both", tmp_path / "both")


def test_resuming_a_run_that_stopped_early_changes_nothing(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    import torch

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    state = torch.load(run / "last.pt", weights_only=False)
    state["stale"] = state["config"]["patience"]  # as if early stopping had ended the run after epoch 1
    torch.save(state, run / "last.pt")
    best_before = (run / "best.pt").read_bytes()
    done = _train_one_epoch(emolens_cli, trained_run, run, "--epochs", "3", "--resume")
    assert done.returncode == 0, done.stderr
    assert [r["epoch"] for r in _log_rows(run)] == ["1"]
    assert (run / "best.pt").read_bytes() == best_before


def test_init_starts_from_another_runs_weights(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    import torch

    source = trained_run / "best.pt"
    run = tmp_path / "finetuned"
    # With a learning rate of zero the weights cannot move, so they must be the source's exactly.
    done = _train_one_epoch(emolens_cli, trained_run, run, "--lr", "0", "--init", source)
    assert done.returncode == 0, done.stderr
    before = torch.load(source, weights_only=False)["model"]
    after = torch.load(run / "last.pt", weights_only=False)
    assert after["config"]["init_from"] == str(source)
    weights = [name for name in before if "running" not in name and "num_batches" not in name]  # not BN statistics
    assert weights and all(torch.equal(before[name], after["model"][name]) for name in weights)


def test_init_from_another_architecture_is_a_one_line_error(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = _train_one_epoch(
        emolens_cli, trained_run, tmp_path / "r", "--init", trained_run / "best.pt", "--model", "vgg_a"
    )
    _assert_one_line_error(done, "cannot start a vgg_a", tmp_path / "r")


@needs_torch
def test_an_unknown_device_is_a_one_line_error(
    tiny_fer_csv: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "r"
    done = emolens_cli("train", "--data", tiny_fer_csv, "--out", out, "--epochs", "1", *TINY_TRAIN_ARGS,
                       "--device", "nonsense")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "emolens: error: --device nonsense: not a device name (auto, cpu, cuda or cuda:N)"
    )
    assert not (out / "last.pt").exists()
