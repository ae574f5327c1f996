"""The one function that turns face crops into model input, for training and inference alike.

A crop is any image array: grayscale (H, W), BGR/BGRA (H, W, 3|4), uint8 or uint16. It becomes a
48x48 grayscale image scaled to [0, 1], then standardised with MEAN and STD. The exported ONNX model
stores these numbers in its metadata so that a model and its preprocessing travel together.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

INPUT_SIZE_PX = 48
MEAN = 0.5
STD = 0.25


def _as_u8(image: np.ndarray) -> np.ndarray:
    """16-bit -> its high byte, other types clipped to 0..255; a single channel axis dropped."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return image


def to_gray_u8(image: np.ndarray) -> np.ndarray:
    """Any common image array -> 2-D uint8 grayscale (colour is assumed BGR, as OpenCV reads it).

    uint16 keeps its high byte; other non-uint8 types are clipped to [0, 255].

    Args:
        image: An image of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA.

    Returns:
        The image as a 2-D uint8 grayscale array of the same height and width.

    Raises:
        ValueError: If the array has any other shape.
    """
    image = _as_u8(image)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")


def to_bgr_u8(image: np.ndarray) -> np.ndarray:
    """Any common image array -> contiguous (H, W, 3) uint8 BGR, for detectors that want colour.

    Args:
        image: An image of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, any numeric type (uint16
            keeps its high byte, others are clipped to [0, 255]).

    Returns:
        The image as a C-contiguous (H, W, 3) uint8 BGR array.

    Raises:
        ValueError: If the array has any other shape.
    """
    image = _as_u8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")


def preprocess_faces(crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Face crops -> float32 array (N, 1, 48, 48), standardised.

    A 3-D uint8 array of shape (N, 48, 48) (a batch of FER2013 images) is accepted as N crops.

    Args:
        crops: Face crops of any size and any layout `to_gray_u8` accepts, or one (N, 48, 48) array.

    Returns:
        A float32 array of shape (N, 1, 48, 48), scaled to [0, 1] then standardised with MEAN and STD;
        (0, 1, 48, 48) for no crops.

    Raises:
        ValueError: If a crop is empty or has a shape `to_gray_u8` does not accept.
    """
    if isinstance(crops, np.ndarray) and crops.ndim == 3 and crops.shape[1:] == (INPUT_SIZE_PX, INPUT_SIZE_PX):
        gray = crops if crops.dtype == np.uint8 else np.stack([to_gray_u8(c) for c in crops])
    else:
        gray = (
            np.stack([_resize(to_gray_u8(np.asarray(c))) for c in crops])
            if len(crops)
            else (np.zeros((0, INPUT_SIZE_PX, INPUT_SIZE_PX), np.uint8))
        )
    out = (gray.astype(np.float32) * (1.0 / 255.0) - MEAN) * (1.0 / STD)
    return out[:, None, :, :]


def _resize(gray: np.ndarray) -> np.ndarray:
    if gray.shape == (INPUT_SIZE_PX, INPUT_SIZE_PX):
        return gray
    if gray.size == 0:
        raise ValueError("empty face crop")
    shrinking = gray.shape[0] > INPUT_SIZE_PX or gray.shape[1] > INPUT_SIZE_PX
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (INPUT_SIZE_PX, INPUT_SIZE_PX), interpolation=interp)
