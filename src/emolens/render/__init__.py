"""Drawing results onto images: boxes, localised labels, probability bars, fps, and per-track timelines.

numpy + OpenCV only. cv2.putText knows ASCII alone, so emotion names come from a glyph atlas rendered
at build time (scripts/make_label_atlas.py, DejaVu Sans) and are pasted as alpha masks; numbers use
putText. Nothing here opens a window or keeps state between calls: pass a loaded `LabelAtlas` to avoid
re-reading it for every frame.

Modules: `overlay` (boxes, labels and panels on a picture), `charts` (per-face bars, per-track timelines), `atlas`
(the shipped glyph masks); the names below are re-exported so that `from emolens.render import annotate` stays.
"""

from __future__ import annotations

from ._paint import COLORS_BGR, PANEL_OUTLINE_BGR
from .atlas import LabelAtlas, load_label_atlas
from .charts import faces_chart, timeline_image, track_ids
from .overlay import RenderOptions, annotate, face_numbers, label_height_px

__all__ = [
    "COLORS_BGR",
    "PANEL_OUTLINE_BGR",
    "LabelAtlas",
    "RenderOptions",
    "annotate",
    "face_numbers",
    "faces_chart",
    "label_height_px",
    "load_label_atlas",
    "timeline_image",
    "track_ids",
]
