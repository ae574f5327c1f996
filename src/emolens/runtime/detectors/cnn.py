"""libfacedetection's CNN (the `yuface` wheel): faces turned or tilted, with a confidence and five landmarks.

The network's weights are compiled into the wheel's shared library (BSD-3-Clause), so nothing is downloaded, ever.
Wheels exist for CPython 3.10 and 3.11 on Linux x86-64 only; elsewhere `make_detector("auto")` falls back to Haar.
Why this detector and not another: docs/detectors.md.

yuface runs its layers through OpenMP. On a small shared machine OpenMP's worker threads spin against the
other stages and against each other, so each call is held to one thread (threadpoolctl), for that call only:
the limit is set and restored around it, in the calling thread, and touches no other library's threads.

The network is called through the C library the wheel ships (libfacedetection.so), not through yuface's Python
binding: the binding allocates a 36 KB result buffer on every call and never frees it (1 GB over a one-hour video
at 25 frames/s and detection on every 3rd frame; benchmarks/bench_batch_memory.py measures it). Here the buffer
is a NumPy array of each call, freed with it; the rows are the same (tests/runtime/test_detectors.py compares).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emolens.errors import ModelFileError
from emolens.preprocess import to_bgr_u8
from emolens.runtime.detectors.base import (
    DEFAULT_DETECT_SIDE_PX,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_SCORE,
    CropMapping,
    detection_scale,
)
from emolens.types import Box, Detection

#: The PyPI package that holds the network.
PACKAGE = "yuface"

#: The smallest face side, in pixels of the frame it sees, that the network finds reliably (its smallest
#: anchor is 10 px; benchmarks/bench_detect.py shows recall falling below about 16 px).
CNN_SMALLEST_FACE_PX = 16

#: FER2013's frame relative to this detector's box, measured on PublicTest by benchmarks/measure_crop_margin.py
#: --detector cnn (docs/crop-margin.md): the frame is the box's longer side (its height), centred 2.6% of it lower
#: than the box. The measured sideways shift (+0.005) is left out: a face and its mirror image frame alike.
CNN_CROP = CropMapping(side_scale=0.987, shift_x=0.0, shift_y=0.026)


#: libfacedetection's result buffer: a count (int32), then 16 int16 per face; the library's own examples size it
#: 0x20000 bytes (room for 4,095 faces), and it writes no more than that.
_RESULT_BUFFER_BYTES = 0x20000
_VALUES_PER_FACE = 16
#: `int* facedetect_cnn(unsigned char* result_buffer, unsigned char* bgr, int width, int height, int step)`, a C++
#: function (its mangled name) in the wheel's libfacedetection.so.
_DETECT_SYMBOL = "_Z14facedetect_cnnPhS_iii"


def load_package() -> tuple[Callable[[np.ndarray], np.ndarray], Any]:
    """The network's detect call and threadpoolctl's controller (on demand: importing emolens never loads the
    native library).

    Returns:
        A function from a BGR uint8 image to the network's int16 (N, 16) rows (see `_raw_detect`), and a
        ThreadpoolController, to hold each call to one OpenMP thread.

    Raises:
        ImportError: If yuface or threadpoolctl is not installed, or yuface's library lacks the detect function.
        OSError: If yuface's shared library cannot load on this platform.
    """
    yuface = importlib.import_module(PACKAGE)
    threadpoolctl = importlib.import_module("threadpoolctl")
    library = ctypes.CDLL(str(Path(str(yuface.__file__)).parent / "libfacedetection.so"))
    try:
        function = getattr(library, _DETECT_SYMBOL)
    except AttributeError:
        raise ImportError(f"{PACKAGE}'s libfacedetection.so has no {_DETECT_SYMBOL}") from None
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def detect(bgr: np.ndarray) -> np.ndarray:
        return _raw_detect(function, bgr)

    return detect, threadpoolctl.ThreadpoolController()


def _raw_detect(function: Any, bgr: np.ndarray) -> np.ndarray:
    """The network on a BGR uint8 image: int16 (N, 16) rows of score (per cent), x, y, w, h, 5 landmarks (x, y)
    and one unused value. ctypes releases the GIL for the call, so other threads go on meanwhile."""
    image = np.ascontiguousarray(bgr)
    buffer = np.zeros(_RESULT_BUFFER_BYTES, np.uint8)
    height_px, width_px = image.shape[:2]
    if function(buffer.ctypes.data, image.ctypes.data, width_px, height_px, image.strides[0]) is None:
        return np.zeros((0, _VALUES_PER_FACE), np.int16)
    count = int(buffer[:4].view(np.int32)[0])
    count = max(0, min(count, (_RESULT_BUFFER_BYTES - 4) // (2 * _VALUES_PER_FACE)))
    return buffer[4 : 4 + count * 2 * _VALUES_PER_FACE].view(np.int16).reshape(count, _VALUES_PER_FACE).copy()


def package_version() -> str:
    """The installed yuface's version, read from its package metadata without importing it.

    Returns:
        E.g. "2023.5.1", or "not installed".
    """
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class CnnFaceDetector:
    """libfacedetection's CNN through `yuface`. Scores are its confidence in [0, 1]; faces below `min_score` are
    dropped. Frames are shrunk to at most `max_side_px` on their longer side first, but never so far that a face
    of `min_face_px` would fall below CNN_SMALLEST_FACE_PX. Thread-safe.

    Raises:
        ModelFileError: yuface (or threadpoolctl) is not installed or does not load here.
        ValueError: a setting out of range.
    """

    def __init__(
        self,
        min_face_px: int = DEFAULT_MIN_FACE_PX,
        max_side_px: int = DEFAULT_DETECT_SIDE_PX,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        if min_face_px < 1 or max_side_px < 1:
            raise ValueError(f"min_face_px and max_side_px must be at least 1, got {min_face_px}, {max_side_px}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        try:
            self._network, self._threads = load_package()
        except (ImportError, OSError) as err:
            raise ModelFileError(
                f"the CNN face detector needs the {PACKAGE} package ({err}); it has wheels for CPython 3.10 and "
                "3.11 on Linux x86-64 only: use --detector haar (or auto) elsewhere"
            ) from None
        # libfacedetection sets up its network on the first call: make that call here, once, so that threads
        # calling detect() later never race to set it up.
        with self._threads.limit(limits=1, user_api="openmp"):
            self._network(np.zeros((32, 32, 3), np.uint8))
        self.name = "cnn"
        self.crop = CNN_CROP
        self.min_face_px = min_face_px
        self.max_side_px = max_side_px
        self.min_score = min_score

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR, gray, BGRA or 16-bit image, boxes clipped to it, left to right.

        Args:
            image_bgr: the image at its own size; it is shrunk here as `max_side_px` and `min_face_px` allow.

        Returns:
            The faces scoring at least `min_score` and at least `min_face_px` on their longer side, each with
            its score and five landmarks in the image's pixels; empty for an empty array.

        Raises:
            ValueError: an array that is not an image.
        """
        if image_bgr.size == 0:
            return []
        bgr = to_bgr_u8(image_bgr)
        height_px, width_px = bgr.shape[:2]
        scale = detection_scale(height_px, width_px, self.max_side_px, self.min_face_px, CNN_SMALLEST_FACE_PX)
        if scale < 1.0:
            size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        with self._threads.limit(limits=1, user_api="openmp"):
            rows = self._network(bgr).astype(np.float64)
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
