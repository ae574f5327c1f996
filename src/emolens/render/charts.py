"""Charts of results: one panel of bars per face (the web app's photo tab), one track's probabilities over time."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from emolens.types import EMOTIONS, FaceResult, FrameResult

from ._paint import _FONT, COLORS_BGR, _fill, _font_scale, _paste
from .atlas import LabelAtlas, load_label_atlas
from .overlay import face_numbers


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


def _ticks(t0: float, t1: float) -> list[float]:
    span = max(t1 - t0, 1e-6)
    step = next((s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if span / s <= 8), 1200)
    first = np.ceil(t0 / step) * step
    return [round(float(t), 3) for t in np.arange(first, t1 + 1e-9, step)]
