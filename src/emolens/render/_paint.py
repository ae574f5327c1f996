"""Pixels shared by the overlay and the charts: the emotion colours, text sizes, clipped fills and alpha pastes.
Private to `emolens.render`."""

from __future__ import annotations

import cv2
import numpy as np

#: BGR colour per emotion, in EMOTIONS order; chosen to stay apart on screen and in the timeline.
COLORS_BGR: tuple[tuple[int, int, int], ...] = (
    (40, 40, 220),  # angry: red
    (60, 150, 40),  # disgust: green
    (150, 50, 130),  # fear: purple
    (0, 210, 255),  # happy: yellow
    (190, 110, 30),  # sad: blue
    (210, 90, 255),  # surprise: pink
    (170, 170, 170),  # neutral: grey
)
#: Outline of each probability bar: drawn without anti-aliasing, so its exact pixels tell a panel is on a picture.
PANEL_OUTLINE_BGR = (90, 90, 90)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image.copy()
    raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")


def _stroke_px(label_px: int) -> int:
    """putText's stroke width for text of this height: thin strokes vanish on a large photo."""
    return max(1, round(label_px / 26))


def _font_scale(text_height_px: float) -> float:
    # HERSHEY_SIMPLEX capitals are ~22 px tall at scale 1.
    return max(0.3, text_height_px / 22.0)


def _ink_for(color: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = color
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)


def _clip_roi(out: np.ndarray, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int] | None:
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, out.shape[1]), min(y + h, out.shape[0])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _fill(out: np.ndarray, x: int, y: int, w: int, h: int, color: tuple[int, int, int]) -> None:
    roi = _clip_roi(out, x, y, w, h)
    if roi:
        out[roi[1] : roi[3], roi[0] : roi[2]] = color


def _shade(out: np.ndarray, x: int, y: int, w: int, h: int) -> None:
    """Darken a panel so white text and bars read on any background."""
    roi = _clip_roi(out, x, y, w, h)
    if roi:
        region = out[roi[1] : roi[3], roi[0] : roi[2]]
        region[:] = (region.astype(np.uint16) * 2 // 5).astype(np.uint8)


def _paste(out: np.ndarray, mask: np.ndarray, x: int, y: int, color: tuple[int, int, int]) -> None:
    """Alpha-blend `color` into `out` through coverage `mask` placed at (x, y), clipped to the image."""
    roi = _clip_roi(out, x, y, mask.shape[1], mask.shape[0])
    if not roi:
        return
    x0, y0, x1, y1 = roi
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)[:, :, None] * (1.0 / 255.0)
    region = out[y0:y1, x0:x1]
    blended = region * (1.0 - alpha) + np.asarray(color, np.float32) * alpha
    region[:] = (blended + 0.5).astype(np.uint8)


def _draw_text_box(
    out: np.ndarray,
    text: str,
    origin: tuple[int, int],
    height_px: int,
    bg: tuple[int, int, int],
    fg: tuple[int, int, int],
) -> None:
    scale, ink_px = _font_scale(height_px * 0.6), _stroke_px(height_px)
    (w, h), base = cv2.getTextSize(text, _FONT, scale, ink_px)
    x, y = origin
    _fill(out, x, y, w + 8, h + base + 8, bg)
    cv2.putText(out, text, (x + 4, y + 4 + h), _FONT, scale, fg, ink_px, cv2.LINE_AA)
