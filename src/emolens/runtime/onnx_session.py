"""The one way emolens opens an ONNX file: onnxruntime on the CPU, a fixed number of threads, its warnings quiet."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from emolens.errors import ModelFileError


def open_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime session for `path` on the CPU, running each call on `threads` threads (one by default: the
    callers parallelise across frames and processes, and a second thread per call only contends with them).

    Args:
        path: the .onnx file.
        threads: intra-op threads per call, at least 1.

    Returns:
        The session; `run` may be called from several threads at once.

    Raises:
        ValueError: If `threads` is below 1.
        ModelFileError: If the file is missing or onnxruntime cannot load it.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # onnxruntime's default, stated: its layout passes (NCHWc) make the face detector 2.5x faster than the basic
    # level (benchmarks/bench_detect.py --variants; docs/detectors.md).
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # onnxruntime's own warnings would reach users as noise on stderr
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for unreadable or invalid graphs
        raise ModelFileError(f"{path}: not a loadable ONNX model ({_first_line(err)})") from err


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
