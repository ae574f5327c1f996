"""The label atlas: every emotion's display name in every language, as glyph masks rendered at build time
(scripts/make_label_atlas.py, DejaVu Sans), since cv2.putText knows ASCII alone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import cv2
import numpy as np

from emolens.errors import EmolensError
from emolens.labels import LANGUAGES


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
