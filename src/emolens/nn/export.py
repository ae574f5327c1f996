"""Export a checkpoint to ONNX with its preprocessing metadata, then check onnxruntime against torch."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emolens import modelmeta as meta_keys
from emolens.data.dataset import FaceDataset
from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint
from emolens.nn.config import ExportOptions, ExportTta
from emolens.preprocess import INPUT_SIZE_PX, MEAN, STD, preprocess_faces
from emolens.types import EMOTIONS

log = logging.getLogger(__name__)

#: Largest |onnxruntime - torch| difference of the output probabilities that still counts as the same model.
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportReport:
    """What `export_onnx` wrote: the file, its size, and how far onnxruntime's output strays from torch's."""

    path: Path
    max_abs_diff: float  # softmax probabilities, onnxruntime vs torch, on random inputs
    size_bytes: int


class _WithSoftmax(nn.Module):
    """The exported graph returns probabilities: logits / temperature, then softmax."""

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        self.model = model
        self.inv_t = 1.0 / temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x) * self.inv_t, dim=1)


class _Ensemble(nn.Module):
    """Several members and, with flip, each face's mirror image, in one graph.

    The members' probabilities are averaged over members and views; the temperature then applies to the log of
    that average, so that one number calibrates the whole ensemble (`emolens eval --calibration` fits it).
    """

    def __init__(self, members: Sequence[nn.Module], flip: bool, temperature: float) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.flip = flip
        self.inv_t = 1.0 / temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = torch.cat([x, torch.flip(x, dims=[3])]) if self.flip else x  # one batch: one call per member
        n_views = 2 if self.flip else 1
        probs = torch.stack([torch.softmax(m(views), dim=1) for m in self.members])
        mean = probs.reshape(len(self.members) * n_views, -1, probs.shape[-1]).mean(dim=0)
        return torch.softmax(torch.log(mean.clamp_min(1e-12)) * self.inv_t, dim=1)


def metadata_for(state: dict[str, Any], temperature: float, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The metadata an exported model carries, so the runtime can check labels and preprocessing against it.

    Args:
        state: the checkpoint dict (`load_checkpoint`): its config names the architecture; its best epoch and
            PublicTest accuracy are recorded.
        temperature: the calibration temperature baked into the graph.
        extra: further keys; they override the ones computed here.

    Returns:
        Key (`modelmeta` names) -> string value, as ONNX metadata_props holds them.

    Raises:
        KeyError: If the checkpoint has no config or its config names no model.
    """
    cfg = state["config"]
    meta = {
        meta_keys.LABELS: json.dumps(list(EMOTIONS)),
        meta_keys.INPUT_SIZE: str(INPUT_SIZE_PX),
        meta_keys.MEAN: repr(MEAN),
        meta_keys.STD: repr(STD),
        meta_keys.TEMPERATURE: repr(float(temperature)),
        meta_keys.ARCHITECTURE: cfg["model"],
        meta_keys.MODEL_KWARGS: json.dumps(cfg.get("model_kwargs", {})),
        meta_keys.BEST_EPOCH: str(state.get("best_epoch", state.get("epoch", ""))),
        meta_keys.PUBLICTEST_ACC: f"{state.get('best_val_acc', float('nan')):.4f}",
        meta_keys.OUTPUTS: "probabilities",
    }
    meta.update(extra or {})
    return meta


def _ensemble_metadata(states: Sequence[dict[str, Any]], tta: ExportTta) -> dict[str, str]:
    members = [
        {
            "architecture": st["config"]["model"],
            "seed": st["config"].get("seed"),
            "best_epoch": st.get("best_epoch", st.get("epoch")),
            "PublicTest_acc": round(float(st.get("best_val_acc", float("nan"))), 4),
        }
        for st in states
    ]
    names = "+".join(sorted({m["architecture"] for m in members}))
    architecture = names if len(states) == 1 else f"ensemble[{len(states)} x {names}]"
    return {
        meta_keys.ARCHITECTURE: architecture + ("+flip" if tta == "flip" else ""),
        meta_keys.MEMBERS: json.dumps(members),
        meta_keys.TTA: tta,
        # Per-member figures live in emolens.members; the ensemble's own accuracy comes from `emolens eval`.
        meta_keys.PUBLICTEST_ACC: "",
        meta_keys.BEST_EPOCH: "",
        meta_keys.MODEL_KWARGS: json.dumps([st["config"].get("model_kwargs", {}) for st in states]),
    }


def export_onnx(
    checkpoint: str | Path | Sequence[str | Path],
    out: str | Path,
    temperature: float = ExportOptions.temperature,
    extra_metadata: dict[str, str] | None = None,
    parity_samples: int = 64,
    tta: ExportTta = ExportOptions.tta,
) -> ExportReport:
    """One checkpoint -> its model with softmax; several checkpoints or tta="flip" -> one averaging graph.

    The file is checked after writing: onnx's checker, then onnxruntime against torch on random inputs.

    Args:
        checkpoint: one checkpoint, or several to average as an ensemble.
        out: the .onnx file to write; its folder is created.
        temperature: logits (or, for an ensemble, log mean probabilities) are divided by it before the softmax.
        extra_metadata: keys added to (and overriding) the computed metadata.
        parity_samples: random inputs the onnxruntime-vs-torch comparison runs on.
        tta: "flip" also averages each face's mirror image, inside the graph.

    Returns:
        The written path, its size and the largest probability difference from torch (compare with
        PARITY_TOLERANCE).

    Raises:
        ValueError: If tta is unknown, no checkpoint is given, or a checkpoint names an unknown architecture.
        ModelFileError: If a checkpoint is missing or unreadable.
    """
    import onnx
    import onnxruntime as ort

    if tta not in ("none", "flip"):
        raise ValueError(f"unknown test-time augmentation {tta!r}; choose none or flip")
    out = Path(out)
    paths = [checkpoint] if isinstance(checkpoint, (str, Path)) else list(checkpoint)
    if not paths:
        raise ValueError("export needs at least one checkpoint")
    states = [load_checkpoint(p) for p in paths]
    state = states[0]
    if len(states) == 1 and tta == "none":
        model: nn.Module = _WithSoftmax(model_from_checkpoint(state).float(), temperature).eval()
    else:
        members = [model_from_checkpoint(st).float() for st in states]
        model = _Ensemble(members, tta == "flip", temperature).eval()
        extra_metadata = {**_ensemble_metadata(states, tta), **(extra_metadata or {})}
    dummy = torch.zeros(1, 1, INPUT_SIZE_PX, INPUT_SIZE_PX)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (dummy,),
        str(out),
        input_names=["input"],
        output_names=["probs"],
        dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(out))
    for key, value in metadata_for(state, temperature, extra_metadata).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))

    x = torch.from_numpy(np.random.default_rng(0).normal(size=(parity_samples, 1, 48, 48)).astype(np.float32))
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    diff = float(np.abs(got - expected).max())
    return ExportReport(out, diff, out.stat().st_size)


#: The network's own layers; the final softmax stays float so that probabilities still sum to 1.
QUANTIZED_OPS = ["Conv", "Gemm", "MatMul", "Add", "Relu", "GlobalAveragePool", "MaxPool"]


@dataclass(frozen=True)
class QuantizeReport:
    """What `quantize_int8` wrote, and how closely the int8 model follows the float one on the check faces."""

    path: Path
    size_bytes: int
    top1_agreement: float  # share of check inputs where int8 and float32 pick the same emotion
    max_abs_diff: float  # largest probability difference between the two on the check inputs


def quantize_int8(
    float_model: str | Path, out: str | Path, calibration: np.ndarray, check: np.ndarray
) -> QuantizeReport:
    """Static int8 quantisation (QDQ, per-channel weights) of an exported float model.

    `calibration` (N, 1, 48, 48): preprocessed Training faces that set the activation ranges; `check`: other
    preprocessed faces (PublicTest) on which the int8 model is compared with the float one. The float model's
    metadata is carried over. Why: int8 convolutions run about 3x faster on CPUs with VNNI.

    Args:
        float_model: the exported float32 .onnx file.
        out: the int8 .onnx file to write.
        calibration: preprocessed faces, float (N, 1, 48, 48), that set the activation ranges.
        check: other preprocessed faces, float32 (M, 1, 48, 48), to compare the two models on.

    Returns:
        The written path, its size, the share of check faces on which both models pick the same emotion, and
        their largest probability difference.
    """
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class _Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(calibration[i : i + 64] for i in range(0, len(calibration), 64))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._it, None)
            return None if batch is None else {"input": batch.astype(np.float32)}

    out = Path(out)
    pre = out.with_suffix(".pre.onnx")
    try:
        quant_pre_process(str(float_model), str(pre))
        quantize_static(
            str(pre), str(out), _Batches(), quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=QUANTIZED_OPS,
        )  # fmt: skip
    finally:
        pre.unlink(missing_ok=True)
    source = onnx.load(str(float_model))
    proto = onnx.load(str(out))
    del proto.metadata_props[:]
    for entry in source.metadata_props:
        proto.metadata_props.add(key=entry.key, value=entry.value)
    proto.metadata_props.add(key=meta_keys.QUANTIZATION, value="int8-static-qdq")
    onnx.save(proto, str(out))

    float_probs = ort.InferenceSession(str(float_model), providers=["CPUExecutionProvider"]).run(
        None, {"input": check}
    )[0]
    int8_probs = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"input": check})[0]
    agreement = float((float_probs.argmax(1) == int8_probs.argmax(1)).mean())
    return QuantizeReport(out, out.stat().st_size, agreement, float(np.abs(float_probs - int8_probs).max()))


def int8_calibration_inputs(dataset: FaceDataset, faces: int = 1024, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs that int8 quantisation calibrates on and is checked on.

    Args:
        dataset: the whole data set; its Training split calibrates, its PublicTest split checks.
        faces: Training faces drawn for calibration (a fixed random sample, in data-set order).
        seed: of that draw.

    Returns:
        Preprocessed (calibration, check) batches, float32 (N, 1, 48, 48).
    """
    training, public = dataset.split("Training"), dataset.split("PublicTest")
    pick = np.sort(np.random.default_rng(seed).permutation(len(training))[:faces])
    return preprocess_faces(training.images[pick]), preprocess_faces(public.images)
