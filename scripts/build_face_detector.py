"""Build the face detector's ONNX graph from libfacedetection's C++ source, byte for byte the same every time.

    python scripts/build_face_detector.py [--source ../shared/libfacedetection]
                                          [--out src/emolens/models/libfacedetection.onnx]

Reads `src/facedetectcnn-data.cpp` (every layer's weights and biases as float arrays, and the table that says which
array is which layer) and `src/facedetectcnn-model.cpp` (the network: which layer feeds which, the strides of the
three heads, the NMS settings) and writes the same network as an ONNX graph. The structure is read from the model
file's statements, not copied out by hand: a statement this script does not know stops it.

The graph (docs/detectors.md, "The ONNX file", says the same for other callers):
- input `input`: float32 (N, 3, H, W), the image's B, G, R planes in 0-255 (no scaling, no mean); any H and W: the
  graph pads the bottom and right with zeros to a multiple of 32, as libfacedetection does.
- outputs, for each stride s in 8, 16, 32 (the feature map of stride s is ceil(H/32)*32/s rows by ceil(W/32)*32/s
  columns, its cells in row-major order): `cls_s` and `obj_s` (N, cells, 1) after the sigmoid, `bbox_s` (N, cells, 4)
  and `kps_s` (N, cells, 10) raw. Decoding, with the prior of a cell at (column*s, row*s):
  score = sqrt(cls*obj); centre = prior + bbox[0:2]*s; size = exp(bbox[2:4])*s; landmark i = prior + kps[2i:2i+2]*s.
  Then candidates scoring at least `score_threshold` (metadata), the best `top_k` of them, greedy NMS at IoU
  `nms_iou`, at most `keep_top_k` faces.

Only the `onnx` package is needed here (the train extra); emolens itself runs the file on onnxruntime. Nothing in
the output depends on the time, the machine or the onnx version: producer, IR version and opset are fixed below.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # the train extra; `--help` works without it
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover - main() says what is missing
    onnx = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "libfacedetection"
DEFAULT_OUT = ROOT / "src" / "emolens" / "models" / "libfacedetection.onnx"

#: Fixed so that the bytes do not change with the installed onnx package (onnxruntime 1.17, the oldest the project
#: allows, reads IR 8 / opset 17, as the shipped classifiers are).
IR_VERSION = 8
OPSET = 17
PRODUCER = "emolens scripts/build_face_detector.py"
PRODUCER_VERSION = "1"
#: libfacedetection pads the image's bottom and right to a multiple of this (setDataFrom3x3S2P1to1x1S1P0FromImage).
PAD_PX = 32
#: The outputs' names, kinds in this order, then strides (OpenCV Zoo's YuNet uses the same names).
KINDS = ("cls", "obj", "bbox", "kps")
#: The C++ names of the four heads, by kind.
_HEAD_VARS = {"pred_cls": "cls", "pred_obj": "obj", "pred_reg": "bbox", "pred_kps": "kps"}


class SourceError(ValueError):
    """The C++ source is not what this converter understands (upstream changed): the message says where."""


@dataclass(frozen=True)
class ConvInfo:
    """One row of `param_pConvInfo` in facedetectcnn-data.cpp."""

    channels: int
    num_filters: int
    is_depthwise: bool
    is_pointwise: bool
    weights: np.ndarray
    biases: np.ndarray


def parse_float_arrays(text: str) -> dict[str, np.ndarray]:
    """`float name[a*b*c] = {1.5f, ...};` -> {name: float32 array}, checked against the declared size."""
    arrays = {}
    for match in re.finditer(r"float\s+(\w+)\s*\[([\d*\s]+)\]\s*=\s*\{([^}]*)\}\s*;", text):
        name, size_text, body = match.groups()
        size = int(np.prod([int(part) for part in size_text.split("*")]))
        values = [float(item.strip().rstrip("fF")) for item in body.split(",") if item.strip()]
        if len(values) != size:
            raise SourceError(f"array {name}: {len(values)} values where {size_text} = {size} are declared")
        arrays[name] = np.asarray(values, dtype=np.float32)
    if not arrays:
        raise SourceError("no float arrays found in the data file")
    return arrays


def parse_conv_table(text: str, arrays: dict[str, np.ndarray]) -> list[ConvInfo]:
    """The `ConvInfoStruct param_pConvInfo[N] = {...}` table, in order: one entry per g_pFilters index."""
    table = re.search(r"ConvInfoStruct\s+param_pConvInfo\s*\[(\d+)\]\s*=\s*\{(.*?)\}\s*;", text, re.S)
    if table is None:
        raise SourceError("no param_pConvInfo table in the data file")
    rows = re.findall(
        r"\{\s*(\d+)\s*,\s*(\d+)\s*,\s*(true|false)\s*,\s*(true|false)\s*,\s*(true|false)\s*,\s*(\w+)\s*,\s*(\w+)\s*\}",
        table.group(2),
    )
    if len(rows) != int(table.group(1)):
        raise SourceError(f"param_pConvInfo declares {table.group(1)} layers but lists {len(rows)}")
    infos = []
    for channels, filters, depthwise, pointwise, _with_bn, weights, biases in rows:
        info = ConvInfo(int(channels), int(filters), depthwise == "true", pointwise == "true",
                        arrays[weights], arrays[biases])  # fmt: skip
        expected = info.channels * info.num_filters if info.is_pointwise else 9 * info.channels
        if info.is_pointwise == info.is_depthwise or info.weights.size != expected:
            raise SourceError(f"layer {weights}: not a 1x1 pointwise or 3x3 depthwise layer of the declared size")
        if info.biases.size != info.num_filters:
            raise SourceError(f"layer {biases}: {info.biases.size} biases for {info.num_filters} filters")
        infos.append(info)
    return infos


class GraphBuilder:
    """Turns libfacedetection's layer calls into ONNX nodes, naming each tensor after the layer that made it."""

    def __init__(self, infos: list[ConvInfo]) -> None:
        self.infos = infos
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.used: set[int] = set()
        self._count = 0

    def fresh_name(self, what: str) -> str:
        self._count += 1
        return f"{what}_{self._count}"

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], what: str, **attrs: object) -> str:
        out = self.fresh_name(what)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def padded_image(self, image: str) -> str:
        """Zero padding at the bottom and right up to a multiple of PAD_PX, computed from the input's shape."""
        shape = self.node("Shape", [image], "shape")
        start = self.const("hw_start", np.array([2], np.int64))
        end = self.const("hw_end", np.array([4], np.int64))
        hw = self.node("Slice", [shape, start, end], "hw")
        pad_to = self.const("pad_to", np.array([PAD_PX], np.int64))
        rest = self.node("Mod", [hw, pad_to], "hw_mod")
        short = self.node("Sub", [pad_to, rest], "hw_short")
        pads_hw = self.node("Mod", [short, pad_to], "pads_hw")
        zeros = self.const("pads_begin", np.zeros(6, np.int64))
        pads = self.node("Concat", [zeros, pads_hw], "pads", axis=0)
        return self.node("Pad", [image, pads], "padded", mode="constant")

    def image_conv(self, image: str, index: int, relu: bool) -> str:
        """Layer `index` on the image: libfacedetection gathers each 3x3 patch (stride 2, padding 1) of the BGR image
        into 27 of 32 channels, in the order (row, column, colour), and runs a 1x1 layer over them: a 3x3 convolution.
        """
        info = self._layer(index)
        if not info.is_pointwise or info.channels < 27:
            raise SourceError(f"layer {index} on the image must be pointwise over at least 27 channels")
        matrix = info.weights.reshape(info.num_filters, info.channels)[:, :27]
        weights = matrix.reshape(info.num_filters, 3, 3, 3).transpose(0, 3, 1, 2)  # (out, colour, row, column)
        w = self.const(f"conv{index}_weight", np.ascontiguousarray(weights))
        b = self.const(f"conv{index}_bias", info.biases)
        out = self.node("Conv", [image, w, b], f"conv{index}", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        return self.node("Relu", [out], f"relu{index}") if relu else out

    def conv(self, x: str, index: int, relu: bool) -> str:
        """libfacedetection's `convolution`: a 1x1 pointwise layer, or a 3x3 depthwise one (stride 1, padding 1)."""
        info = self._layer(index)
        w_name, b_name = f"conv{index}_weight", f"conv{index}_bias"
        if info.is_pointwise:
            weights = info.weights.reshape(info.num_filters, info.channels, 1, 1)
            out = self.node("Conv", [x, self.const(w_name, weights), self.const(b_name, info.biases)],
                            f"conv{index}", kernel_shape=[1, 1])  # fmt: skip
        else:
            if info.channels != info.num_filters:
                raise SourceError(f"depthwise layer {index} maps {info.channels} channels to {info.num_filters}")
            # Filters<float> copies a depthwise layer's array as 9 rows (the 3x3 taps, row-major) of `channels`.
            weights = info.weights.reshape(3, 3, info.channels).transpose(2, 0, 1)[:, None, :, :]
            out = self.node("Conv", [x, self.const(w_name, np.ascontiguousarray(weights)),
                                     self.const(b_name, info.biases)],
                            f"conv{index}", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=info.channels)  # fmt: skip
        return self.node("Relu", [out], f"relu{index}") if relu else out

    def _layer(self, index: int) -> ConvInfo:
        if not 0 <= index < len(self.infos):
            raise SourceError(f"g_pFilters[{index}] is not in param_pConvInfo")
        if index in self.used:
            raise SourceError(f"g_pFilters[{index}] is used twice")
        self.used.add(index)
        return self.infos[index]

    def head_output(self, x: str, kind: str, stride: int, channels: int) -> onnx.ValueInfoProto:
        """(N, C, h, w) -> (N, h*w, C), cells in row-major order; cls and obj through the sigmoid."""
        if kind in ("cls", "obj"):
            x = self.node("Sigmoid", [x], f"sigmoid_{kind}_{stride}")
        cells = self.node("Transpose", [x], f"nhwc_{kind}_{stride}", perm=[0, 2, 3, 1])
        shape = self.const(f"shape_{kind}_{stride}", np.array([0, -1, channels], np.int64))
        name = f"{kind}_{stride}"
        self.nodes.append(helper.make_node("Reshape", [cells, shape], [name], name=name))
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", f"cells_{stride}", channels])


_FILTER = r"g_pFilters\[(\d+)\]"


def build_model(source: Path) -> onnx.ModelProto:
    """The ONNX model of the network in `source`/src, with its decoding settings and provenance as metadata.

    Args:
        source: the libfacedetection folder (holding src/ and SOURCE.md).

    Returns:
        The model, checked by onnx.checker.

    Raises:
        SourceError: the source is not what this converter understands.
        OSError: a file cannot be read.
    """
    data_text = (source / "src" / "facedetectcnn-data.cpp").read_text(encoding="utf-8")
    model_text = (source / "src" / "facedetectcnn-model.cpp").read_text(encoding="utf-8")
    infos = parse_conv_table(data_text, parse_float_arrays(data_text))
    num_layers = re.search(r"#define\s+NUM_CONV_LAYER\s+(\d+)", model_text)
    if num_layers is None or int(num_layers.group(1)) != len(infos):
        raise SourceError(f"NUM_CONV_LAYER in the model file differs from the {len(infos)} layers of the data file")
    body = re.search(r"objectdetect_cnn\s*\([^)]*\)\s*\{(.*?)\n\}", model_text, re.S)
    if body is None:
        raise SourceError("no objectdetect_cnn function in the model file")

    graph = GraphBuilder(infos)
    image = "input"
    tensors: dict[str, str] = {}  # C++ variable -> ONNX tensor
    heads: dict[tuple[str, int], str] = {}  # (kind, level) -> ONNX tensor
    strides: dict[int, int] = {}  # level -> stride
    detection_args: list[str] = []
    for raw in body.group(1).splitlines():
        line = raw.strip()
        if not line or line.startswith(("//", "/*", "TIME_", "CDataBlob", "if", "{", "}", "init_", "param_",
                                        "return")) or "meshgrid" in line:  # fmt: skip
            continue
        if match := re.fullmatch(r"(?:auto\s+)?fx\s*=\s*setDataFrom3x3S2P1to1x1S1P0FromImage\(.*\);", line):
            tensors["fx"] = "IMAGE"
            continue
        if match := re.fullmatch(r"bbox_decode\(pred_reg\[(\d)\],\s*\w+,\s*(\d+)\);", line):
            strides[int(match.group(1))] = int(match.group(2))
            continue
        if line.startswith(("kps_decode", "auto cls", "auto reg", "auto kps", "auto obj", "sigmoid(")):
            continue  # the decoding, done by the caller (the module docstring says how)
        if match := re.fullmatch(r"std::vector<FaceRect>\s+\w+\s*=\s*detection_output\((.*)\);", line):
            detection_args = [arg.strip().rstrip("f") for arg in match.group(1).split(",")]
            continue
        match = re.fullmatch(r"(?:auto\s+)?([\w\[\]]+)\s*=\s*(\w+)\((.*)\);", line)
        if match is None:
            raise SourceError(f"a statement this converter does not know: {line!r}")
        target, function, args_text = match.groups()
        args = [arg.strip() for arg in args_text.split(",")]

        def tensor(variable: str, statement: str = line) -> str:
            if variable not in tensors:
                raise SourceError(f"{variable} is used before it is set: {statement!r}")
            return tensors[variable]

        filters = [int(index) for index in re.findall(_FILTER, args_text)]
        relu = args[-1] != "false"
        if function == "convolution" and len(filters) == 1:
            if tensors.get(args[0]) == "IMAGE":
                result = graph.image_conv(graph.padded_image(image), filters[0], relu)
            else:
                result = graph.conv(tensor(args[0]), filters[0], relu)
        elif function == "convolutionDP" and len(filters) == 2:
            result = graph.conv(graph.conv(tensor(args[0]), filters[0], False), filters[1], relu)
        elif function == "convolution4layerUnit" and len(filters) == 4:
            result = graph.conv(graph.conv(tensor(args[0]), filters[0], False), filters[1], True)
            result = graph.conv(graph.conv(result, filters[2], False), filters[3], relu)
        elif function == "maxpooling2x2S2" and len(args) == 1:
            result = graph.node("MaxPool", [tensor(args[0])], "pool", kernel_shape=[2, 2], strides=[2, 2])
        elif function == "elementAdd" and (up := re.fullmatch(r"upsampleX2\((\w+)\)", args[0])) and len(args) == 2:
            scales = graph.const(graph.fresh_name("scales"), np.array([1, 1, 2, 2], np.float32))
            upsampled = graph.node("Resize", [tensor(up.group(1)), "", scales], "upsample", mode="nearest",
                                   coordinate_transformation_mode="asymmetric", nearest_mode="floor")  # fmt: skip
            result = graph.node("Add", [upsampled, tensor(args[1])], "add")
        else:
            raise SourceError(f"a layer call this converter does not know: {line!r}")
        if head := re.fullmatch(r"(pred_\w+)\[(\d)\]", target):
            if head.group(1) not in _HEAD_VARS:
                raise SourceError(f"an unknown head {target!r}")
            heads[(_HEAD_VARS[head.group(1)], int(head.group(2)))] = result
        else:
            tensors[target] = result

    if graph.used != set(range(len(infos))):
        raise SourceError(f"layers never used: {sorted(set(range(len(infos))) - graph.used)}")
    if sorted(strides) != [0, 1, 2] or len(heads) != 12 or len(detection_args) != 8:
        raise SourceError("expected three heads (cls, obj, bbox, kps at strides from bbox_decode) and detection_output")
    channels = {"cls": 1, "obj": 1, "bbox": 4, "kps": 10}
    outputs = [graph.head_output(heads[(kind, level)], kind, strides[level], channels[kind])
               for kind in KINDS for level in sorted(strides)]  # fmt: skip
    inputs = [helper.make_tensor_value_info(image, TensorProto.FLOAT, ["N", 3, "H", "W"])]
    onnx_graph = helper.make_graph(graph.nodes, "libfacedetection", inputs, outputs, graph.initializers)

    iou, score, top_k, keep_top_k = detection_args[4:8]
    commit = re.search(r"\b([0-9a-f]{40})\b", (source / "SOURCE.md").read_text(encoding="utf-8"))
    metadata = {
        "source": "https://github.com/ShiqiYu/libfacedetection" + (f" at {commit.group(1)}" if commit else ""),
        "license": "BSD-3-Clause (LICENSE-libfacedetection.txt beside this file)",
        "built_by": "scripts/build_face_detector.py from src/facedetectcnn-data.cpp and src/facedetectcnn-model.cpp",
        "input": "float32 (N, 3, H, W): B, G, R planes in 0-255; any H, W (padded inside to a multiple of 32)",
        "input_pad_px": str(PAD_PX),
        "strides": json.dumps([strides[level] for level in sorted(strides)]),
        "score": "sqrt(cls * obj)",
        "score_threshold": str(float(score)),
        "nms_iou": str(float(iou)),
        "top_k": str(int(top_k)),
        "keep_top_k": str(int(keep_top_k)),
    }
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        ir_version=IR_VERSION,
        doc_string="libfacedetection's face detection CNN (Shiqi Yu et al.); decoding in the metadata and "
        "docs/detectors.md",
    )
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def build_bytes(source: Path) -> bytes:
    """The serialised model (deterministic: the same bytes for the same source).

    Args:
        source: the libfacedetection folder.

    Returns:
        The .onnx file's bytes.
    """
    return build_model(source).SerializeToString(deterministic=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the libfacedetection folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the .onnx file to write")
    args = parser.parse_args(argv)
    if onnx is None:
        print("build_face_detector: needs the onnx package (pip install onnx, or the train extra)", file=sys.stderr)
        return 2
    try:
        data = build_bytes(args.source)
    except (OSError, SourceError) as err:
        print(f"build_face_detector: {err}", file=sys.stderr)
        return 1
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
