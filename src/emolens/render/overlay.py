"""Drawing results onto a picture: boxes, numbered localised labels, probability panels, fps."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emolens.types import EMOTIONS, Box, FaceResult, FrameResult

from ._paint import (
    _FONT,
    COLORS_BGR,
    PANEL_OUTLINE_BGR,
    _as_bgr,
    _draw_text_box,
    _fill,
    _font_scale,
    _ink_for,
    _paste,
    _shade,
    _stroke_px,
)
from .atlas import LabelAtlas, load_label_atlas


@dataclass(frozen=True)
class RenderOptions:
    """How results are drawn on pictures. The CLI's drawing flags and the web app's checkbox default to these
    fields, and `annotate`'s keywords to the same fields."""

    #: Only each face's box and numbered label (emotion and confidence), no 7-bar probability panel beside it:
    #: quieter on crowded pictures and small frames.
    labels_only: bool = False


def annotate(
    image: np.ndarray,
    result: FrameResult,
    lang: str = "en",
    fps: float | None = None,
    *,
    atlas: LabelAtlas | None = None,
    labels_only: bool = RenderOptions.labels_only,
) -> np.ndarray:
    """A new BGR image: every face boxed and labelled with its number (`face_numbers`), its name in
    `lang` and its confidence; unless `labels_only`, its 7 probabilities in a panel beside the box wherever
    one fits without covering another face or label (else none: the label says the most); `fps` in the
    first corner (top-left, top-right, bottom-left, bottom-right) where it covers no face, label or panel.
    Text and line sizes grow with the image, so a 6000x4000 photo reads as well as a 640x360 frame.

    Args:
        image: the frame, BGR or BGRA uint8 or grayscale (others are clipped to 0..255); it is not changed.
        result: the faces found in it.
        lang: the language of the emotion names (LANGUAGES).
        fps: a frame rate to show, or None.
        atlas: the label atlas; None loads it (pass one in when drawing many frames).
        labels_only: draw only each face's box and numbered label, no probability panel.

    Returns:
        A new BGR uint8 image of the same size.

    Raises:
        ValueError: If the image has an unsupported shape, or there are faces and `lang` is not one of
            LANGUAGES.
        EmolensError: If `atlas` is None and the shipped atlas cannot be read.
    """
    atlas = atlas or load_label_atlas()
    out = _as_bgr(image)
    height_px, width_px = out.shape[:2]
    label_px = label_height_px(height_px, width_px)
    boxes = [face.box.clip(width_px, height_px) for face in result.faces]
    taken = [(b.x1, b.y1, b.x2, b.y2) for b in boxes]
    numbers = face_numbers(result)
    for face, box, number in zip(result.faces, boxes, numbers, strict=True):
        taken.append(_draw_face(out, face, box, number, lang, atlas, label_px, taken))
    if not labels_only:
        for face, box in zip(result.faces, boxes, strict=True):
            spot = _draw_bars(out, face, box, lang, atlas, label_px, taken)
            if spot:
                taken.append(spot)
    if fps is not None:
        text = f"{fps:.1f} fps"
        corner = _free_corner(text, label_px, (width_px, height_px), taken)
        _draw_text_box(out, text, corner, label_px, (0, 0, 0), (255, 255, 255))
    return out


def label_height_px(height_px: int, width_px: int) -> int:
    """Height of a face's label on an image of this size: 1/22 of the shorter side, at least 16 px.

    Args:
        height_px: the image's height.
        width_px: the image's width.

    Returns:
        The label height in pixels.
    """
    return max(16, round(min(height_px, width_px) / 22))


def face_numbers(result: FrameResult) -> list[int]:
    """The number each face carries on the picture, in tables and in charts: its track id in a video,
    else its place in `result.faces` counting from 1.

    Args:
        result: the frame's faces.

    Returns:
        One number per face, in the order of `result.faces`.
    """
    return [face.track_id if face.track_id is not None else i for i, face in enumerate(result.faces, start=1)]


_Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive)


def _draw_face(
    out: np.ndarray,
    face: FaceResult,
    box: Box,
    number: int,
    lang: str,
    atlas: LabelAtlas,
    label_px: int,
    taken: list[_Rect],
) -> _Rect:
    """Box and label, the label where it covers no other face or label; returns the label's rectangle."""
    color = COLORS_BGR[EMOTIONS.index(face.emotion)]
    thickness = max(2, label_px // 8)
    cv2.rectangle(out, (box.x1, box.y1), (box.x2 - 1, box.y2 - 1), color, thickness, cv2.LINE_AA)
    # Label: [number] localised name + confidence, on the box's colour, above the box (inside it at the top edge).
    name = atlas.scaled(face.emotion, lang, label_px)
    percent = f" {round(100 * face.confidence)}%"
    scale, ink_px = _font_scale(label_px * 0.5), _stroke_px(label_px)
    (text_w, _), _ = cv2.getTextSize(percent, _FONT, scale, ink_px)
    (tag_w, _), _ = cv2.getTextSize(str(number), _FONT, scale, ink_px)
    tag_w += label_px // 2
    label_w = tag_w + name.shape[1] + text_w + label_px // 6 + 4
    label_x = min(max(box.x1, 0), max(0, out.shape[1] - label_w))
    # Above the box, else inside its top edge, else below it; above regardless when all three are covered.
    own = (box.x1, box.y1, box.x2, box.y2)
    others = [rect for rect in taken if rect != own]
    spots = [(label_x, box.y1 - label_px), (label_x, box.y2), (label_x, box.y1)]
    free = _free_spot(spots, label_w, label_px, (out.shape[1], out.shape[0]), others)
    label_y = free[1] if free else max(0, box.y1 - label_px)
    ink = _ink_for(color)
    baseline_y = label_y + round(label_px * 0.78)
    # The number on white, so it reads the same whatever the emotion's colour.
    _fill(out, label_x, label_y, tag_w, label_px, (255, 255, 255))
    cv2.putText(out, str(number), (label_x + label_px // 4, baseline_y), _FONT, scale, (0, 0, 0), ink_px, cv2.LINE_AA)
    _fill(out, label_x + tag_w, label_y, label_w - tag_w, label_px, color)
    _paste(out, name, label_x + tag_w + 2, label_y, ink)
    cv2.putText(out, percent, (label_x + tag_w + 2 + name.shape[1], baseline_y), _FONT, scale, ink, ink_px, cv2.LINE_AA)
    return (label_x, label_y, label_x + label_w, label_y + label_px)


def _draw_bars(
    out: np.ndarray, face: FaceResult, box: Box, lang: str, atlas: LabelAtlas, label_px: int, taken: list[_Rect]
) -> _Rect | None:
    """The 7-bar panel beside the box where it covers no other face, label or panel; None where none fits."""
    row_px = max(10, round(label_px * 0.7))
    names = [atlas.scaled(emotion, lang, row_px) for emotion in EMOTIONS]
    name_w = max(n.shape[1] for n in names)
    bar_w = 4 * row_px
    gap = max(4, label_px // 6)
    panel_w, panel_h = name_w + bar_w + 6, row_px * len(EMOTIONS) + 4
    height_px, width_px = out.shape[:2]
    spot = _free_spot(_panel_spots(box, panel_w, panel_h, gap), panel_w, panel_h, (width_px, height_px), taken)
    if spot is None:
        return None
    px, py = spot[0], spot[1]
    _shade(out, px, py, panel_w, panel_h)
    for i, (glyphs, p) in enumerate(zip(names, face.probs, strict=True)):
        y = py + 2 + i * row_px
        _paste(out, glyphs, px + 2, y, (255, 255, 255))
        bx = px + 4 + name_w
        filled = round(bar_w * float(np.clip(p, 0.0, 1.0)))
        cv2.rectangle(out, (bx, y + 2), (bx + bar_w - 1, y + row_px - 3), PANEL_OUTLINE_BGR, 1)
        if filled > 0:
            cv2.rectangle(out, (bx, y + 2), (bx + filled - 1, y + row_px - 3), COLORS_BGR[i], -1)
    return spot


def _panel_spots(box: Box, w: int, h: int, gap: int) -> list[tuple[int, int]]:
    # Right of the box, then left, each level with its top or its bottom; then below and above it.
    return [
        (box.x2 + gap, box.y1),
        (box.x2 + gap, box.y2 - h),
        (box.x1 - gap - w, box.y1),
        (box.x1 - gap - w, box.y2 - h),
        (box.x1, box.y2 + gap),
        (box.x2 - w, box.y2 + gap),
        (box.x1, box.y1 - gap - h),
    ]


def _free_spot(
    spots: list[tuple[int, int]], w: int, h: int, size_px: tuple[int, int], taken: list[_Rect]
) -> _Rect | None:
    """The first spot where a w x h panel lies inside the image and overlaps nothing in `taken`."""
    for x, y in spots:
        rect = (x, y, x + w, y + h)
        inside = x >= 0 and y >= 0 and rect[2] <= size_px[0] and rect[3] <= size_px[1]
        if inside and not any(_overlap(rect, other) for other in taken):
            return rect
    return None


def _free_corner(text: str, height_px: int, size_px: tuple[int, int], taken: list[_Rect]) -> tuple[int, int]:
    """Where `_draw_text_box` puts `text` so it covers no face, label or panel: the top-left corner, else the
    top-right, bottom-left or bottom-right; the top-left when every corner is covered."""
    scale, ink_px = _font_scale(height_px * 0.6), _stroke_px(height_px)
    (w, h), base = cv2.getTextSize(text, _FONT, scale, ink_px)
    box_w, box_h = w + 8, h + base + 8
    right, bottom = size_px[0] - box_w - 4, size_px[1] - box_h - 4
    free = _free_spot([(4, 4), (right, 4), (4, bottom), (right, bottom)], box_w, box_h, size_px, taken)
    return (free[0], free[1]) if free else (4, 4)


def _overlap(a: _Rect, b: _Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
