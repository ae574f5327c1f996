"""Drawing results onto images: boxes, localised labels, probability bars, fps, and per-track timelines.

numpy + OpenCV only. cv2.putText knows ASCII alone, so emotion names come from a glyph atlas rendered
at build time (scripts/make_label_atlas.py, DejaVu Sans) and are pasted as alpha masks; numbers use
putText. Nothing here opens a window or keeps state between calls: pass a loaded `LabelAtlas` to avoid
re-reading it for every frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import cv2
import numpy as np

from emolens.errors import EmolensError
from emolens.labels import LANGUAGES
from emolens.types import EMOTIONS, Box, FaceResult, FrameResult

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


@dataclass(frozen=True)
class RenderOptions:
    """How results are drawn on pictures. The CLI's drawing flags and the web app's checkbox default to these
    fields, and `annotate`'s keywords to the same fields."""

    #: Only each face's box and numbered label (emotion and confidence), no 7-bar probability panel beside it:
    #: quieter on crowded pictures and small frames.
    labels_only: bool = False


@dataclass(frozen=True)
class LabelAtlas:
    """Glyph coverage masks (uint8, 255 = ink) of every display name, keyed "lang:emotion"."""

    mask: np.ndarray
    entries: Mapping[str, tuple[int, int, int, int]]

    def name_mask(self, emotion: str, lang: str) -> np.ndarray:
        """The glyphs of one display name at the atlas's own size.

        Args:
            emotion: one of EMOTIONS.
            lang: one of LANGUAGES.

        Returns:
            A view into the atlas (uint8, 255 = ink); do not write to it.

        Raises:
            ValueError: If the atlas has no entry for this emotion in this language.
        """
        try:
            x, y, w, h = self.entries[f"{lang}:{emotion}"]
        except KeyError:
            raise ValueError(
                f"no glyphs for {emotion!r} in language {lang!r}; choose from {', '.join(LANGUAGES)}"
            ) from None
        return self.mask[y : y + h, x : x + w]

    def scaled(self, emotion: str, lang: str, height_px: int) -> np.ndarray:
        """One display name resized to a line height, its aspect ratio kept.

        Args:
            emotion: one of EMOTIONS.
            lang: one of LANGUAGES.
            height_px: the height wanted.

        Returns:
            A new uint8 mask (255 = ink), `height_px` tall and at least 1 pixel wide.

        Raises:
            ValueError: If the atlas has no entry for this emotion in this language.
        """
        glyphs = self.name_mask(emotion, lang)
        width_px = max(1, round(glyphs.shape[1] * height_px / glyphs.shape[0]))
        return cv2.resize(glyphs, (width_px, height_px), interpolation=cv2.INTER_AREA)


def load_label_atlas() -> LabelAtlas:
    """Read the atlas shipped in emolens/assets (text in every language without a font at run time).

    Returns:
        The atlas; callers that draw many frames load it once and pass it on.

    Raises:
        EmolensError: If labels.png or labels.json is missing, unreadable or not what it should be.
    """
    assets = resources.files("emolens") / "assets"
    try:
        data = np.frombuffer((assets / "labels.png").read_bytes(), np.uint8)
        index = json.loads((assets / "labels.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EmolensError(f"emolens/assets/labels.png|json: label atlas missing or unreadable ({err})") from err
    mask = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise EmolensError("emolens/assets/labels.png: not a PNG image")
    entries = {key: (int(v[0]), int(v[1]), int(v[2]), int(v[3])) for key, v in index["entries"].items()}
    return LabelAtlas(mask=mask, entries=entries)


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


def _overlap(a: _Rect, b: _Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def faces_chart(
    result: FrameResult, lang: str = "en", *, atlas: LabelAtlas | None = None, width_px: int = 960
) -> np.ndarray:
    """A BGR chart with one small panel per face, numbered as on the picture (`face_numbers`): seven
    horizontal bars, each with its localised name and percentage. Three panels to a row.

    Args:
        result: the faces to chart.
        lang: the language of the emotion names (LANGUAGES).
        atlas: the label atlas; None loads it.
        width_px: the chart's width; its height follows from the number of rows.

    Returns:
        A new BGR uint8 image (one blank row of panels when there is no face).

    Raises:
        ValueError: If `lang` is not one of LANGUAGES.
    """
    atlas = atlas or load_label_atlas()
    columns = max(1, min(3, len(result.faces)))
    cell_w = width_px // columns
    row_px, title_px = 22, 30
    name_w = max(atlas.scaled(e, lang, row_px).shape[1] for e in EMOTIONS)
    cell_h = title_px + row_px * len(EMOTIONS) + 16
    rows = max(1, -(-len(result.faces) // columns))
    out = np.full((rows * cell_h, width_px, 3), 255, np.uint8)
    scale = _font_scale(13)
    for k, (face, number) in enumerate(zip(result.faces, face_numbers(result), strict=True)):
        x0, y0 = (k % columns) * cell_w + 8, (k // columns) * cell_h + 6
        _fill(out, x0, y0, title_px, title_px - 6, (0, 0, 0))
        cv2.putText(out, str(number), (x0 + 5, y0 + 18), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
        name = atlas.scaled(face.emotion, lang, title_px - 6)
        _paste(out, name, x0 + title_px + 6, y0, (0, 0, 0))
        bar_x = x0 + name_w + 8
        bar_w = max(20, cell_w - name_w - 70)
        for i, p in enumerate(face.probs):
            y = y0 + title_px + i * row_px
            _paste(out, atlas.scaled(EMOTIONS[i], lang, row_px), x0, y, (40, 40, 40))
            cv2.rectangle(out, (bar_x, y + 4), (bar_x + bar_w, y + row_px - 4), (225, 225, 225), -1)
            filled = round(bar_w * float(np.clip(p, 0.0, 1.0)))
            if filled > 0:
                cv2.rectangle(out, (bar_x, y + 4), (bar_x + filled, y + row_px - 4), COLORS_BGR[i], -1)
            cv2.putText(out, f"{100 * p:.0f}%", (bar_x + bar_w + 6, y + row_px - 6), _FONT, scale, (40, 40, 40), 1,
                        cv2.LINE_AA)  # fmt: skip
    return out


def timeline_image(
    results: Sequence[FrameResult],
    track_id: int,
    lang: str = "en",
    *,
    atlas: LabelAtlas | None = None,
    size_px: tuple[int, int] = (960, 360),
) -> np.ndarray:
    """A BGR chart of one track's 7 probabilities over time (x: time_s, y: probability 0..1), with a
    strip of the top emotion per frame above it and a legend. Frames where the track is absent leave gaps.

    Args:
        results: a video's frames, in order; their time_s span sets the x axis.
        track_id: the track to chart (`track_ids` lists them).
        lang: the language of the legend (LANGUAGES).
        atlas: the label atlas; None loads it.
        size_px: (width, height) of the chart.

    Returns:
        A new BGR uint8 image; it says "no data for this track" when the track occurs in no frame.

    Raises:
        ValueError: If `lang` is not one of LANGUAGES.
    """
    atlas = atlas or load_label_atlas()
    width_px, height_px = size_px
    legend_w, margin, strip_px = 150, 36, 14
    out = np.full((height_px, width_px, 3), 255, np.uint8)
    left, right = margin + 8, width_px - legend_w - 10
    top, bottom = margin + strip_px + 6, height_px - margin
    points = [(r.time_s, f) for r in results for f in r.faces if f.track_id == track_id]
    times = [r.time_s for r in results]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    span_s = max(t1 - t0, 1e-6)

    def x_of(t: float) -> int:
        return round(left + (t - t0) / span_s * (right - left))

    def y_of(p: float) -> int:
        return round(bottom - p * (bottom - top))

    # Axes and grid.
    scale = _font_scale(11)
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        cv2.line(out, (left, y_of(p)), (right, y_of(p)), (225, 225, 225), 1)
        cv2.putText(out, f"{p:.2f}", (4, y_of(p) + 4), _FONT, scale, (80, 80, 80), 1, cv2.LINE_AA)
    for t in _ticks(t0, t1):
        cv2.line(out, (x_of(t), bottom), (x_of(t), bottom + 4), (80, 80, 80), 1)
        cv2.putText(out, f"{t:g}s", (x_of(t) - 8, bottom + 18), _FONT, scale, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.rectangle(out, (left, top), (right, bottom), (120, 120, 120), 1)
    cv2.putText(out, f"track {track_id}", (left, 20), _FONT, _font_scale(14), (0, 0, 0), 1, cv2.LINE_AA)
    # Gaps: a new polyline starts whenever the track misses a frame.
    segments: list[list[tuple[float, FaceResult]]] = []
    previous: int | None = None
    for r in results:
        for face in r.faces:
            if face.track_id != track_id:
                continue
            if previous is None or r.frame_index != previous + 1:
                segments.append([])
            segments[-1].append((r.time_s, face))
            previous = r.frame_index
    for k in range(len(EMOTIONS)):
        for segment in segments:
            pts = np.array([[x_of(t), y_of(f.probs[k])] for t, f in segment], np.int32)
            if len(pts) == 1:
                cv2.circle(out, tuple(int(v) for v in pts[0]), 2, COLORS_BGR[k], -1)
            elif len(pts) > 1:
                cv2.polylines(out, [pts], False, COLORS_BGR[k], 2, cv2.LINE_AA)
    # Strip: the top emotion of each frame, so a glance shows the story of the clip.
    frame_s = float(np.median(np.diff(times))) if len(times) > 1 else span_s
    for time_s, face in points:
        xa = x_of(time_s)
        xb = max(xa + 1, x_of(min(time_s + frame_s, t1)))
        cv2.rectangle(out, (xa, margin), (xb, margin + strip_px), COLORS_BGR[EMOTIONS.index(face.emotion)], -1)
    # Legend in the chosen language.
    row_px = 22
    for k, emotion in enumerate(EMOTIONS):
        y = top + k * (row_px + 4)
        lx = width_px - legend_w
        cv2.rectangle(out, (lx, y + 6), (lx + 14, y + 16), COLORS_BGR[k], -1)
        _paste(out, atlas.scaled(emotion, lang, row_px), lx + 20, y, (0, 0, 0))
    if not points:
        cv2.putText(out, "no data for this track", (left + 10, (top + bottom) // 2), _FONT, _font_scale(16),
                    (0, 0, 200), 1, cv2.LINE_AA)  # fmt: skip
    return out


def track_ids(results: Sequence[FrameResult]) -> list[int]:
    """Every track id that occurs in `results`, ascending.

    Args:
        results: a video's frames.

    Returns:
        The distinct track ids; empty for a photo or a video without confirmed tracks.
    """
    return sorted({f.track_id for r in results for f in r.faces if f.track_id is not None})


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


def _free_corner(text: str, height_px: int, size_px: tuple[int, int], taken: list[_Rect]) -> tuple[int, int]:
    """Where `_draw_text_box` puts `text` so it covers no face, label or panel: the top-left corner, else the
    top-right, bottom-left or bottom-right; the top-left when every corner is covered."""
    scale, ink_px = _font_scale(height_px * 0.6), _stroke_px(height_px)
    (w, h), base = cv2.getTextSize(text, _FONT, scale, ink_px)
    box_w, box_h = w + 8, h + base + 8
    right, bottom = size_px[0] - box_w - 4, size_px[1] - box_h - 4
    free = _free_spot([(4, 4), (right, 4), (4, bottom), (right, bottom)], box_w, box_h, size_px, taken)
    return (free[0], free[1]) if free else (4, 4)


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


def _ticks(t0: float, t1: float) -> list[float]:
    span = max(t1 - t0, 1e-6)
    step = next((s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if span / s <= 8), 1200)
    first = np.ceil(t0 / step) * step
    return [round(float(t), 3) for t in np.arange(first, t1 + 1e-9, step)]
