"""The CNN detector as emolens ran it before the ONNX file: libfacedetection compiled into the `yuface` wheel
(CPython 3.10/3.11 on Linux x86-64 only), kept here, outside the package, as the reference the ONNX path is measured
against (benchmarks/detector_parity.py, benchmarks/bench_detect.py, docs/detectors.md). Needs `pip install
yuface==2023.5.1 threadpoolctl`; nothing in emolens imports it.

It is the former `emolens.runtime.detectors.cnn.CnnFaceDetector` unchanged in what it computes: the same shrinking,
box and landmark mapping, and the network called through the wheel's C library (its Python binding leaks a 36 KB
buffer per call), with OpenMP held to one thread around each call (threadpoolctl).
"""

from __future__ import annotations

import ctypes
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from emolens.runtime.detectors.base import (
    DEFAULT_DETECT_SIDE_PX,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_SCORE,
)
from emolens.runtime.detectors.cnn import CNN_CROP, network_frame
from emolens.types import Box, Detection

#: libfacedetection's result buffer: a count (int32), then 16 int16 per face (score in per cent, x, y, w, h, five
#: landmarks, one unused value); the library's own examples size it 0x20000 bytes.
_RESULT_BUFFER_BYTES = 0x20000
_VALUES_PER_FACE = 16
#: `int* facedetect_cnn(unsigned char* result_buffer, unsigned char* bgr, int width, int height, int step)`, mangled.
_DETECT_SYMBOL = "_Z14facedetect_cnnPhS_iii"


def yuface_available() -> bool:
    """Whether yuface and threadpoolctl import and the library loads here."""
    try:
        load_network()
    except (ImportError, OSError):
        return False
    return True


def load_network() -> tuple[Any, Any]:
    """(the C function, a threadpoolctl ThreadpoolController). Raises ImportError or OSError where unavailable."""
    yuface = importlib.import_module("yuface")
    threadpoolctl = importlib.import_module("threadpoolctl")
    library = ctypes.CDLL(str(Path(str(yuface.__file__)).parent / "libfacedetection.so"))
    function = getattr(library, _DETECT_SYMBOL)
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return function, threadpoolctl.ThreadpoolController()


def raw_rows(function: Any, bgr: np.ndarray) -> np.ndarray:
    """The library on a BGR uint8 image: int16 (N, 16) rows, as libfacedetection writes them."""
    image = np.ascontiguousarray(bgr)
    buffer = np.zeros(_RESULT_BUFFER_BYTES, np.uint8)
    height_px, width_px = image.shape[:2]
    if function(buffer.ctypes.data, image.ctypes.data, width_px, height_px, image.strides[0]) is None:
        return np.zeros((0, _VALUES_PER_FACE), np.int16)
    count = int(buffer[:4].view(np.int32)[0])
    count = max(0, min(count, (_RESULT_BUFFER_BYTES - 4) // (2 * _VALUES_PER_FACE)))
    return buffer[4 : 4 + count * 2 * _VALUES_PER_FACE].view(np.int16).reshape(count, _VALUES_PER_FACE).copy()


class YufaceDetector:
    """The FaceDetector protocol on yuface's library, exactly as emolens's CNN detector worked before."""

    def __init__(
        self,
        min_face_px: int = DEFAULT_MIN_FACE_PX,
        max_side_px: int = DEFAULT_DETECT_SIDE_PX,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        self._function, self._threads = load_network()
        with self._threads.limit(limits=1, user_api="openmp"):  # the library sets itself up on its first call
            raw_rows(self._function, np.zeros((32, 32, 3), np.uint8))
        self.name = "yuface"
        self.crop = CNN_CROP
        self.min_face_px = min_face_px
        self.max_side_px = max_side_px
        self.min_score = min_score

    def network_rows(self, bgr: np.ndarray) -> np.ndarray:
        """The library's rows for a BGR uint8 image as it is, OpenMP held to one thread."""
        with self._threads.limit(limits=1, user_api="openmp"):
            return raw_rows(self._function, bgr)

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Faces, as emolens's former CNN detector reported them."""
        if image_bgr.size == 0:
            return []
        bgr, scale = network_frame(image_bgr, self.max_side_px, self.min_face_px)
        height_px, width_px = image_bgr.shape[:2]
        rows = self.network_rows(bgr).astype(np.float64)
        faces = []
        for row in rows:
            score = float(row[0]) / 100.0  # the library reports per cent
            if score < self.min_score:
                continue
            x, y, w, h = row[1:5] / scale
            box = Box(round(x), round(y), round(x + w), round(y + h)).clip(width_px, height_px)
            if max(w, h) < self.min_face_px or box.width < 1 or box.height < 1:
                continue
            points = tuple((float(px / scale), float(py / scale)) for px, py in row[5:15].reshape(5, 2))
            faces.append(Detection(box, min(score, 1.0), points))
        faces.sort(key=lambda face: (face.box.x1, face.box.y1))
        return faces
