"""libfacedetection's CNN: faces turned or tilted, with a confidence and five landmarks, on every platform.

The network (Shiqi Yu's libfacedetection, BSD-3-Clause: models/LICENSE-libfacedetection.txt) ships inside the
package as models/libfacedetection.onnx, built from its C++ source by scripts/build_face_detector.py, and runs on
onnxruntime like the emotion classifier, one thread per call. The graph ends at the raw heads; the decoding here
(priors, score, threshold, NMS) follows libfacedetection's own (facedetectcnn-model.cpp, detection_output), with the
constants read from the model's metadata, so the JavaScript page decodes the same file the same way
(docs/detectors.md, "The ONNX file"). Why this detector and not another: docs/detectors.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from emolens.errors import ModelFileError
from emolens.preprocess import to_bgr_u8
from emolens.runtime.detectors.base import (
    DEFAULT_DETECT_SIDE_PX,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_SCORE,
    CropMapping,
    detection_scale,
)
from emolens.runtime.onnx_session import open_session
from emolens.types import Box, Detection

#: The network's file inside the package (models/), and the name of its input.
MODEL_FILE = "libfacedetection.onnx"
INPUT_NAME = "input"

#: The smallest face side, in pixels of the frame it sees, that the network finds reliably (its smallest
#: anchor is 10 px; benchmarks/bench_detect.py shows recall falling below about 16 px).
CNN_SMALLEST_FACE_PX = 16

#: FER2013's frame relative to this detector's box, measured on PublicTest by benchmarks/measure_crop_margin.py
#: --detector cnn (docs/crop-margin.md): the frame is the box's longer side (its height), centred 2.6% of it lower
#: than the box. The measured sideways shift (+0.005) is left out: a face and its mirror image frame alike. (Measured
#: on yuface's integer boxes; the ONNX file's unrounded boxes give 0.985, +0.000, +0.023, within 0.3% of the box
#: side and the same accuracy on PublicTest: docs/detectors.md, "Crop mapping on PublicTest".)
CNN_CROP = CropMapping(side_scale=0.987, shift_x=0.0, shift_y=0.026)


def model_file() -> Path:
    """The shipped network's path (models/libfacedetection.onnx inside the installed package).

    Returns:
        The path; it exists in every complete installation.
    """
    return Path(str(resources.files("emolens") / "models" / MODEL_FILE))


@dataclass(frozen=True)
class Decoding:
    """How the network's heads become faces: libfacedetection's settings, as the model's metadata states them."""

    strides: tuple[int, ...]
    pad_px: int
    score_threshold: float
    nms_iou: float
    top_k: int
    keep_top_k: int

    @classmethod
    def from_metadata(cls, path: Path, meta: dict[str, str]) -> Decoding:
        """The settings scripts/build_face_detector.py wrote into the model.

        Args:
            path: the model file, for messages.
            meta: its custom metadata.

        Returns:
            The decoding settings.

        Raises:
            ModelFileError: If a key is missing or malformed (not a file that script built).
        """
        try:
            strides = tuple(int(stride) for stride in json.loads(meta["strides"]))
            return cls(
                strides=strides,
                pad_px=int(meta["input_pad_px"]),
                score_threshold=float(meta["score_threshold"]),
                nms_iou=float(meta["nms_iou"]),
                top_k=int(meta["top_k"]),
                keep_top_k=int(meta["keep_top_k"]),
            )
        except (KeyError, ValueError, TypeError) as err:
            raise ModelFileError(
                f"{path}: its decoding metadata is missing or malformed ({err}); was it built by "
                "scripts/build_face_detector.py?"
            ) from None


@dataclass(frozen=True)
class NetworkFaces:
    """Faces in the pixels of the image the network saw, best first: scores (N,), boxes (N, 4) as x1, y1, x2, y2
    (floats, unclipped), landmarks (N, 5, 2)."""

    scores: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray


def decode(outputs: dict[str, np.ndarray], height_px: int, width_px: int, decoding: Decoding, min_score: float) -> (
    NetworkFaces
):  # fmt: skip
    """The network's heads for one image -> its faces, as libfacedetection decodes them: each cell of the stride-s
    map has the prior (column*s, row*s); score = sqrt(cls*obj); centre = prior + bbox[:2]*s, size = exp(bbox[2:])*s;
    landmark i = prior + kps[2i:2i+2]*s; then the candidates scoring at least `min_score` (never below the model's
    threshold), the best top_k of them, greedy NMS, at most keep_top_k. Float32 throughout, as the C++ computes.

    Args:
        outputs: the heads by name (cls_8, obj_8, bbox_8, kps_8, ... for each stride), batch of one.
        height_px: the height of the image the network saw.
        width_px: its width.
        decoding: the model's decoding settings.
        min_score: the lowest score kept.

    Returns:
        The faces, best first.

    Raises:
        ModelFileError: If an output's size does not fit the image (not the network this decodes).
    """
    padded_h = -(-height_px // decoding.pad_px) * decoding.pad_px
    padded_w = -(-width_px // decoding.pad_px) * decoding.pad_px
    threshold = np.float32(max(min_score, decoding.score_threshold))
    scores, boxes, landmarks = [], [], []
    for stride in decoding.strides:
        columns = padded_w // stride
        cls, obj = outputs[f"cls_{stride}"][0, :, 0], outputs[f"obj_{stride}"][0, :, 0]
        if cls.shape[0] != columns * (padded_h // stride):
            raise ModelFileError(f"the face detector's cls_{stride} has {cls.shape[0]} cells for a {width_px}x"
                                 f"{height_px} image")  # fmt: skip
        score = np.sqrt(cls * obj)
        cells = np.flatnonzero(score >= threshold)
        s = np.float32(stride)
        priors = np.stack([cells % columns, cells // columns], axis=1).astype(np.float32) * s  # (n, 2): x, y
        bbox = outputs[f"bbox_{stride}"][0, cells]
        centre = bbox[:, :2] * s + priors
        half = np.exp(bbox[:, 2:]) * s / np.float32(2.0)
        scores.append(score[cells])
        boxes.append(np.concatenate([centre - half, centre + half], axis=1))
        landmarks.append(outputs[f"kps_{stride}"][0, cells].reshape(-1, 5, 2) * s + priors[:, None, :])
    all_scores = np.concatenate(scores)
    order = np.argsort(-all_scores, kind="stable")[: decoding.top_k]
    all_boxes = np.concatenate(boxes)[order]
    keep = suppress_overlaps(all_boxes, decoding.nms_iou)[: decoding.keep_top_k]
    return NetworkFaces(all_scores[order][keep], all_boxes[keep], np.concatenate(landmarks)[order][keep])


def suppress_overlaps(boxes: np.ndarray, max_iou: float) -> np.ndarray:
    """Greedy NMS over boxes already sorted best first: a box is kept unless it overlaps a kept one by more than
    `max_iou` (libfacedetection's JaccardOverlap: no overlap unless both sides of the intersection are positive).

    Args:
        boxes: (N, 4) x1, y1, x2, y2, best first.
        max_iou: the largest overlap a kept box may have with a better one.

    Returns:
        The kept rows' indices, in order.
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    remaining = np.arange(len(boxes))
    kept = []
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        kept.append(best)
        width = np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest])
        height = np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest])
        overlapping = (width > 0) & (height > 0)
        inter = np.where(overlapping, width * height, 0)
        union = np.where(overlapping, areas[best] + areas[rest] - inter, 1)
        remaining = rest[inter / union <= max_iou]
    return np.asarray(kept, dtype=np.int64)


def network_frame(image_bgr: np.ndarray, max_side_px: int, min_face_px: int) -> tuple[np.ndarray, float]:
    """The image as the CNN sees it: BGR uint8, shrunk as `max_side_px` and `min_face_px` allow (detection_scale).

    Args:
        image_bgr: a BGR, gray, BGRA or 16-bit image at its own size, not empty.
        max_side_px: the longest side to shrink to.
        min_face_px: the smallest face to keep findable after shrinking.

    Returns:
        The frame given to the network, and its scale against the image (1.0 when not shrunk).

    Raises:
        ValueError: an array that is not an image.
    """
    bgr = to_bgr_u8(image_bgr)
    height_px, width_px = bgr.shape[:2]
    scale = detection_scale(height_px, width_px, max_side_px, min_face_px, CNN_SMALLEST_FACE_PX)
    if scale < 1.0:
        size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    return bgr, scale


def runtime_version() -> str:
    """The onnxruntime that runs the network, for --version and /healthz.

    Returns:
        E.g. "1.20.1".
    """
    return str(ort.__version__)


class CnnFaceDetector:
    """libfacedetection's CNN on onnxruntime. Scores are its confidence in [0, 1]; faces below `min_score` are
    dropped. Frames are shrunk to at most `max_side_px` on their longer side first, but never so far that a face
    of `min_face_px` would fall below CNN_SMALLEST_FACE_PX. Thread-safe; each call runs on one thread.

    Raises:
        ModelFileError: the network's file is missing (a broken installation) or not the network this decodes.
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
        path = model_file()
        self._session = open_session(path, threads=1)
        self._decoding = Decoding.from_metadata(path, self._session.get_modelmeta().custom_metadata_map)
        self._output_names = [output.name for output in self._session.get_outputs()]
        expected = {f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in self._decoding.strides}
        if not expected <= set(self._output_names):
            raise ModelFileError(f"{path}: outputs {sorted(self._output_names)}, expected {sorted(expected)}")
        self.name = "cnn"
        self.crop = CNN_CROP
        self.min_face_px = min_face_px
        self.max_side_px = max_side_px
        self.min_score = min_score

    def network_faces(self, bgr: np.ndarray) -> NetworkFaces:
        """The network on a BGR uint8 image as it is (no shrinking, no `min_face_px`), decoded.

        Args:
            bgr: (H, W, 3) uint8.

        Returns:
            The faces scoring at least `min_score`, best first, in the image's pixels.
        """
        planes = np.ascontiguousarray(bgr.transpose(2, 0, 1), dtype=np.float32)[None]
        outputs = dict(zip(self._output_names, self._session.run(self._output_names, {INPUT_NAME: planes}),
                           strict=True))  # fmt: skip
        return decode(outputs, bgr.shape[0], bgr.shape[1], self._decoding, self.min_score)

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
        bgr, scale = network_frame(image_bgr, self.max_side_px, self.min_face_px)
        height_px, width_px = image_bgr.shape[:2]
        found = self.network_faces(bgr)
        faces = []
        for score, corners, points in zip(found.scores, found.boxes.astype(np.float64) / scale,
                                          found.landmarks.astype(np.float64) / scale, strict=True):  # fmt: skip
            x1, y1, x2, y2 = corners
            box = Box(round(x1), round(y1), round(x2), round(y2)).clip(width_px, height_px)
            if max(x2 - x1, y2 - y1) < self.min_face_px or box.width < 1 or box.height < 1:
                continue
            landmarks = tuple((float(x), float(y)) for x, y in points)
            faces.append(Detection(box, min(float(score), 1.0), landmarks))
        faces.sort(key=lambda face: (face.box.x1, face.box.y1))
        return faces
