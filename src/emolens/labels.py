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
    """The seven names in `lang`, in EMOTIONS order.

    Args:
        lang: A language code from LANGUAGES.

    Returns:
        The seven display names, in the order of `emolens.types.EMOTIONS`.

    Raises:
        ValueError: If `lang` is not in LANGUAGES.
    """
    try:
        return _NAMES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}") from None


def display_name(emotion: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of one emotion in `lang`.

    Args:
        emotion: An English emotion name from `emolens.types.EMOTIONS`.
        lang: A language code from LANGUAGES.

    Returns:
        The emotion's name in `lang`.

    Raises:
        ValueError: If `lang` is not in LANGUAGES or `emotion` is not in EMOTIONS.
    """
    return display_names(lang)[EMOTIONS.index(emotion)]
