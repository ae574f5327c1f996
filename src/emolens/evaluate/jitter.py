"""Crops perturbed the way a face detector's crops stray from FER2013's centred faces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

JITTER_KINDS: tuple[str, ...] = ("shift", "scale", "rotation", "blur", "brightness")


@dataclass(frozen=True)
class JitterConfig:
    """How far a face detector's crops typically stray from FER2013's centred faces."""

    shift_frac: float = 0.08  # of the crop side, each axis
    scale_frac: float = 0.12  # zoom in or out by up to this fraction
    rotation_deg: float = 10.0
    blur_sigma_px: float = 1.2  # Gaussian blur, sigma drawn in [0, this]
    brightness: float = 40.0  # additive, in grey levels


def jitter_images(
    images: np.ndarray, kinds: Sequence[str], seed: int = 0, cfg: JitterConfig | None = None
) -> np.ndarray:
    """A perturbed copy of (N, 48, 48) uint8 images; each image draws its own random parameters.

    Args:
        images: Grayscale uint8 images, (N, H, W); FER2013's are (N, 48, 48).
        kinds: The perturbations to apply, any of JITTER_KINDS; none gives an unperturbed copy.
        seed: Seeds the draws, so the same seed perturbs the same image the same way.
        cfg: How far each kind strays; JitterConfig() when None.

    Returns:
        The perturbed images, same shape and dtype as `images`.

    Raises:
        ValueError: If a kind is not in JITTER_KINDS.
    """
    cfg = cfg or JitterConfig()
    unknown = set(kinds) - set(JITTER_KINDS)
    if unknown:
        raise ValueError(f"unknown jitter kind(s) {', '.join(sorted(unknown))}; choose from {', '.join(JITTER_KINDS)}")
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, img in enumerate(images):
        h, w = img.shape
        # Draw every parameter whatever the kinds, so that a kind's draws do not depend on the others.
        dx, dy = rng.uniform(-cfg.shift_frac, cfg.shift_frac, 2) * (w, h)
        scale = 1.0 + rng.uniform(-cfg.scale_frac, cfg.scale_frac)
        angle = rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)
        sigma = rng.uniform(0.0, cfg.blur_sigma_px)
        shift_gl = rng.uniform(-cfg.brightness, cfg.brightness)
        m = cv2.getRotationMatrix2D(
            ((w - 1) / 2, (h - 1) / 2),
            angle if "rotation" in kinds else 0.0,
            scale if "scale" in kinds else 1.0,
        )
        if "shift" in kinds:
            m[:, 2] += (dx, dy)
        res = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if "blur" in kinds and sigma > 0.05:
            res = cv2.GaussianBlur(res, (0, 0), sigma)
        if "brightness" in kinds:
            res = np.clip(res.astype(np.float32) + shift_gl, 0, 255).astype(np.uint8)
        out[i] = res
    return out
