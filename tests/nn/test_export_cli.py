# ruff: noqa: E402  (imports that need the train extra follow pytest.importorskip)
"""`emolens export`: a checkpoint becomes an .onnx file with metadata, equal to torch within 1e-4."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

torch = pytest.importorskip("torch", reason="exporting needs the 'train' extra (torch)")


from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint
from emolens.preprocess import MEAN, STD, preprocess_faces
from emolens.types import EMOTIONS


def test_export_prints_parity_and_size(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "model.onnx"
    done = emolens_cli("export", trained_run / "best.pt", "--out", out)
    assert done.returncode == 0, done.stderr
    diff = float(re.search(r"max \|onnxruntime - torch\| = (\S+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert diff <= 1e-4
    assert f"{out.stat().st_size} bytes" in done.stdout


def test_exported_model_carries_its_preprocessing_and_matches_torch(trained_run: Path, tiny_onnx: Path) -> None:
    session = ort.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["emolens.labels"]) == list(EMOTIONS)
    assert int(meta["emolens.input_size"]) == 48
    assert float(meta["emolens.mean"]) == MEAN and float(meta["emolens.std"]) == STD
    assert float(meta["emolens.temperature"]) == 1.0
    assert meta["emolens.architecture"] == "mini_xception"
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["probs"]

    faces = np.random.default_rng(1).integers(0, 256, (9, 48, 48), dtype=np.uint8)
    x = preprocess_faces(faces)
    got = session.run(["probs"], {"input": x})[0]
    model = model_from_checkpoint(load_checkpoint(trained_run / "best.pt")).float()
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_temperature_is_baked_in(
    trained_run: Path, tiny_onnx: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    hot = tmp_path / "hot.onnx"
    done = emolens_cli("export", trained_run / "best.pt", "--out", hot, "--temperature", "2.5")
    assert done.returncode == 0, done.stderr
    x = preprocess_faces(np.random.default_rng(2).integers(0, 256, (5, 48, 48), dtype=np.uint8))
    plain = ort.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    warm_session = ort.InferenceSession(str(hot), providers=["CPUExecutionProvider"])
    warm = warm_session.run(None, {"input": x})[0]
    assert float(warm_session.get_modelmeta().custom_metadata_map["emolens.temperature"]) == 2.5
    # softmax(z / T) == softmax(log softmax(z) / T)
    logp = np.log(plain.astype(np.float64))
    expected = np.exp(logp / 2.5) / np.exp(logp / 2.5).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(warm, expected, atol=1e-4)
    assert warm.max() < plain.max() + 1e-6  # a higher temperature never sharpens


@pytest.mark.parametrize("bad", ["missing.pt", "garbage.pt"])
def test_bad_checkpoint_is_a_one_line_error(
    tmp_path: Path, bad: str, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    checkpoint = tmp_path / bad
    if bad == "garbage.pt":
        checkpoint.write_bytes(b"not a checkpoint")
    done = emolens_cli("export", checkpoint, "--out", tmp_path / "m.onnx")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"emolens: error: {checkpoint}: ")
    assert not (tmp_path / "m.onnx").exists()


def test_non_positive_temperature_is_refused(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = emolens_cli("export", trained_run / "best.pt", "--out", tmp_path / "m.onnx", "--temperature", "0")
    assert done.returncode == 2 and "--temperature must be positive" in done.stderr


def test_int8_export_keeps_metadata_and_agrees_with_float(
    trained_run: Path, tiny_fer_csv: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "model.onnx"
    float_out = tmp_path / "float32.onnx"
    done = emolens_cli(
        "export", trained_run / "best.pt", "--out", out, "--int8", "--data", tiny_fer_csv, "--float-out", float_out
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size < float_out.stat().st_size
    meta = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["emolens.quantization"] == "int8-static-qdq"
    assert json.loads(meta["emolens.labels"]) == list(EMOTIONS)
    agreement = float(re.search(r"same top emotion (\S+)%", done.stdout).group(1))  # type: ignore[union-attr]
    assert agreement >= 80.0


def test_int8_export_without_data_is_a_one_line_error(
    trained_run: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    done = emolens_cli("export", trained_run / "best.pt", "--out", tmp_path / "m.onnx", "--int8")
    assert done.returncode == 2
    assert "--int8 needs --data" in done.stderr
    assert "Traceback" not in done.stderr


def test_ensemble_with_flip_averages_members_and_mirror_images(
    trained_run: Path, tiny_onnx: Path, tmp_path: Path, emolens_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "ensemble.onnx"
    best, last = trained_run / "best.pt", trained_run / "last.pt"
    done = emolens_cli("export", best, last, "--tta", "flip", "--out", out)
    assert done.returncode == 0, done.stderr
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["emolens.architecture"] == "ensemble[2 x mini_xception]+flip"
    assert meta["emolens.tta"] == "flip" and len(json.loads(meta["emolens.members"])) == 2

    x = preprocess_faces(np.random.default_rng(3).integers(0, 256, (6, 48, 48), dtype=np.uint8))
    views = [x, np.ascontiguousarray(x[:, :, :, ::-1])]
    expected = []
    for checkpoint in (best, last):
        model = model_from_checkpoint(load_checkpoint(checkpoint)).float()
        with torch.no_grad():
            expected += [torch.softmax(model(torch.from_numpy(v)), dim=1).numpy() for v in views]
    got = session.run(None, {"input": x})[0]
    np.testing.assert_allclose(got, np.mean(expected, axis=0), atol=1e-4)
    # One face alone gets the same answer as in a batch: the views do not mix faces.
    np.testing.assert_allclose(session.run(None, {"input": x[2:3]})[0], got[2:3], atol=1e-5)
    # A mirrored face gets the same probabilities: flip TTA makes the model symmetric.
    np.testing.assert_allclose(session.run(None, {"input": views[1]})[0], got, atol=1e-4)
