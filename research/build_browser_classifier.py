"""A float32 copy of the shipped int8 QDQ classifier, byte for byte the same every time: the candidate for the
Camera tab that docs/browser-camera.md measured ("Speed") and did not ship, because it was not faster in the page.

    python research/build_browser_classifier.py --out /tmp/fast-float32.onnx
                                               [--model src/emolens/models/emolens-fast.onnx]
                                               [--keep-activation-qdq] [--check | --compare]

The shipped classifier (`emolens-fast.onnx`) is int8 with QuantizeLinear/DequantizeLinear (QDQ) around each Conv.
Native onnxruntime fuses those into int8 kernels (about 1.5 ms per face); onnxruntime-web's WASM build takes ten
times that. This script writes the same network in float32:

- every DequantizeLinear of a constant (weights and biases) is computed once here, `(q - zero_point) * scale`
  along its axis, in float32 as onnxruntime does, and becomes a float32 initializer;
- every activation QuantizeLinear -> DequantizeLinear pair becomes a Clip to the float range it lets through (its
  integer type's ends, dequantized): the quantizer folded the ReLUs and the input's clipping into that saturation,
  so dropping the pair outright would drop them; only the rounding to the int8 grid goes. `--keep-activation-qdq`
  keeps the pairs instead (only to compare; docs/browser-camera.md says which is closer to the int8 model);
- everything else (nodes, names, inputs, outputs, opset, IR version, metadata_props) is copied, so the page reads the
  same labels, input size, mean and std from it as the server reads from the int8 file.

The weights are therefore exactly the int8 model's weights; what differs is only that activations are not rounded
to int8 between layers. `emolens serve --model OUT` runs it (server and page), and
`benchmarks/bench_browser_camera.py --models fast OUT` compares the page's speed with each file. `--compare` (with
PYTHONPATH=src) writes OUT and prints, for every face of the shared photos (../shared/media), how far its
probabilities on native onnxruntime are from the int8 model's, and whether the top emotion is the same.

Only the `onnx` package is needed here (the train extra); emolens itself never imports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:  # the train extra; `--help` works without it
    import onnx
    from onnx import helper, numpy_helper
except ImportError:  # pragma: no cover - main() says what is missing
    onnx = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[1]
#: The photos of tests/web/test_web_camera_browser.py's parity test, and one more.
PHOTOS = ("biden.jpg", "obama.jpg", "multi_face.jpg", "astronaut.png", "single_face.jpg")
MEDIA = ROOT.parent / "shared" / "media"
DEFAULT_MODEL = ROOT / "src" / "emolens" / "models" / "emolens-fast.onnx"
PRODUCER = "emolens research/build_browser_classifier.py"
PRODUCER_VERSION = "1"


class GraphError(ValueError):
    """The input graph has a quantization pattern this script does not know."""


def _dequantized(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, axis: int) -> np.ndarray:
    """`(q - zero_point) * scale` in float32, per tensor or per channel along `axis` (ONNX DequantizeLinear)."""
    values = q.astype(np.int64)
    zp = np.zeros_like(scale, dtype=np.int64) if zero_point is None else zero_point.astype(np.int64)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * q.ndim
        shape[axis % q.ndim] = scale.size
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((values - zp).astype(np.float32) * scale.astype(np.float32)).astype(np.float32)


def _saturation(constants: dict[str, np.ndarray], quantize: onnx.NodeProto) -> tuple[np.ndarray, np.ndarray]:
    """The float range a QuantizeLinear -> DequantizeLinear pair lets through: its integer type's ends, dequantized."""
    if len(quantize.input) < 3 or quantize.input[1] not in constants or quantize.input[2] not in constants:
        raise GraphError(f"{quantize.name}: an activation QuantizeLinear without a constant scale and zero point")
    scale, zero_point = constants[quantize.input[1]], constants[quantize.input[2]]
    if scale.size != 1:
        raise GraphError(f"{quantize.name}: a per-channel activation QuantizeLinear")
    info = np.iinfo(zero_point.dtype)
    ends = [(np.float32(end - int(zero_point)) * scale.astype(np.float32)).reshape(()) for end in (info.min, info.max)]
    return np.array(ends[0], np.float32), np.array(ends[1], np.float32)


def float_copy(model: onnx.ModelProto, keep_activation_qdq: bool = False) -> onnx.ModelProto:
    """The float32 copy of a QDQ model (see the module docstring).

    Args:
        model: the int8 QDQ model.
        keep_activation_qdq: keep activation QuantizeLinear/DequantizeLinear pairs (only constants are folded).

    Returns:
        A new model; `model` is not changed.

    Raises:
        GraphError: If a DequantizeLinear of a constant has an unexpected form.
    """
    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    folded: dict[str, np.ndarray] = {}
    producers = {out: node for node in graph.node for out in node.output}
    kept: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in constants:
            if len(node.input) < 2 or node.input[1] not in constants:
                raise GraphError(f"{node.name}: a constant DequantizeLinear without a constant scale")
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            zero_point = constants[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            folded[node.output[0]] = _dequantized(constants[node.input[0]], constants[node.input[1]], zero_point, axis)
            continue
        if not keep_activation_qdq and node.op_type == "DequantizeLinear":
            source = producers.get(node.input[0])
            if source is None or source.op_type != "QuantizeLinear":
                raise GraphError(f"{node.name}: an activation DequantizeLinear not fed by a QuantizeLinear")
            # The pair rounds to the int8 grid and saturates at its ends. The quantizer folded the ReLUs (and the
            # input's clipping) into that saturation, so it is kept as a Clip; only the rounding goes.
            low, high = _saturation(constants, source)
            names = (f"{node.output[0]}_clip_min", f"{node.output[0]}_clip_max")
            folded[names[0]], folded[names[1]] = low, high
            kept.append(helper.make_node("Clip", [source.input[0], *names], [node.output[0]], name=f"{node.name}_clip"))
            continue
        if not keep_activation_qdq and node.op_type == "QuantizeLinear":
            continue
        kept.append(node)

    used = {name for node in kept for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used]
    initializers += [numpy_helper.from_array(folded[name], name) for name in sorted(folded) if name in used]
    new_graph = helper.make_graph(
        kept, graph.name, list(graph.input), list(graph.output), initializer=initializers, doc_string=graph.doc_string
    )
    out = helper.make_model(
        new_graph,
        opset_imports=list(model.opset_import),
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        ir_version=model.ir_version,
    )
    for prop in model.metadata_props:
        out.metadata_props.add(key=prop.key, value=prop.value)
    onnx.checker.check_model(out)
    return out


def build_bytes(model_path: Path, keep_activation_qdq: bool = False) -> bytes:
    """The serialized float32 copy of the model at `model_path`.

    Args:
        model_path: the int8 QDQ ONNX file.
        keep_activation_qdq: see `float_copy`.

    Returns:
        The ONNX file's bytes.
    """
    return float_copy(onnx.load(str(model_path)), keep_activation_qdq).SerializeToString(deterministic=True)


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) the float32 copy.

    Args:
        argv: command-line arguments (default sys.argv[1:]).

    Returns:
        The exit status: 0 written or up to date, 1 out of date (--check).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the int8 QDQ model (default: fast)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the float32 copy")
    parser.add_argument("--keep-activation-qdq", action="store_true", help="fold only the constants")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    parser.add_argument("--compare", action="store_true", help="then print its distance from --model on the photos")
    args = parser.parse_args(argv)
    if onnx is None:
        raise SystemExit("needs the `onnx` package (pip install -e '.[train]')")
    body = build_bytes(args.model, args.keep_activation_qdq)
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == body
        print(f"{args.out}: {'up to date' if same else 'OUT OF DATE: rerun without --check'}")
        return 0 if same else 1
    args.out.write_bytes(body)
    print(f"wrote {args.out} ({len(body)} bytes) from {args.model}")
    if args.compare:
        compare(args.model, args.out)
    return 0


def compare(model: Path, copy: Path) -> None:
    """Print, for each face of PHOTOS, the largest probability difference between `copy` and `model` (native
    onnxruntime, the same detector and preprocessing) and whether their top emotions agree.

    Args:
        model: the int8 model.
        copy: its float32 copy.
    """
    from emolens.api import Recognizer, RecognizerOptions  # PYTHONPATH=src

    recognizers = [Recognizer(RecognizerOptions(model=str(path))) for path in (model, copy)]
    worst = 0.0
    for name in PHOTOS:
        int8, float32 = (r.analyze(MEDIA / name).faces for r in recognizers)
        for index, (a, b) in enumerate(zip(int8, float32, strict=True)):
            difference = float(np.max(np.abs(np.asarray(a.probs) - np.asarray(b.probs))))
            worst = max(worst, difference)
            same = int(np.argmax(a.probs)) == int(np.argmax(b.probs))
            print(
                f"{name} face {index}: largest difference {difference:.4f}, top emotion {'same' if same else 'DIFFERS'}"
            )
    print(f"largest difference over all faces: {worst:.4f}")


if __name__ == "__main__":
    sys.exit(main())
