"""Shipped models by short name; any other value is taken as a path to an .onnx file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from emolens.errors import ModelFileError

#: Short names of the models that ship inside the package, as models/emolens-<name>.onnx.
SHIPPED_MODELS: tuple[str, ...] = ("fast", "accurate")
#: The model used when none is named.
DEFAULT_MODEL = "fast"


def model_path(name_or_path: str | Path = DEFAULT_MODEL) -> Path:
    """ "fast" or "accurate" -> the packaged models/emolens-<name>.onnx; a path -> that path, which must exist.

    Args:
        name_or_path: one of SHIPPED_MODELS, or the path of an .onnx file.

    Returns:
        The model file's path.

    Raises:
        ModelFileError: If the file does not exist (a shipped one missing means a broken installation).
    """
    if isinstance(name_or_path, str) and name_or_path in SHIPPED_MODELS:
        path = Path(str(resources.files("emolens") / "models" / f"emolens-{name_or_path}.onnx"))
        if not path.is_file():
            raise ModelFileError(f"{path}: the shipped model {name_or_path!r} is missing from this installation")
        return path
    path = Path(name_or_path)
    if not path.is_file():
        names = ", ".join(SHIPPED_MODELS)
        raise ModelFileError(f"{path}: no such model file (give a path to an .onnx file or one of: {names})")
    return path
