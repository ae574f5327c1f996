"""Display names of the seven emotions in the languages the tutorials were written in.

JSON keys and the API stay English; these are for drawing and the UI only.
"""

from __future__ import annotations

from emolens.types import EMOTIONS

LANGUAGES: tuple[str, ...] = ("en", "vi", "id")
#: The language of labels when none is chosen.
DEFAULT_LANG = "en"

_NAMES: dict[str, tuple[str, ...]] = {
    "en": EMOTIONS,
    "vi": ("tức giận", "ghê tởm", "sợ hãi", "vui vẻ", "buồn", "ngạc nhiên", "bình thường"),
    "id": ("marah", "jijik", "takut", "senang", "sedih", "terkejut", "netral"),
}


def display_names(lang: str = DEFAULT_LANG) -> tuple[str, ...]:
    """The seven names in `lang`, in EMOTIONS order."""
    try:
        return _NAMES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}") from None


def display_name(emotion: str, lang: str = DEFAULT_LANG) -> str:
    return display_names(lang)[EMOTIONS.index(emotion)]
