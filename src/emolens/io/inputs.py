"""The inputs a user names: files as given, folders expanded to the image files they hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from emolens.io.media import IMAGE_SUFFIXES


def expand_image_paths(paths: list[Path], recursive: bool = False) -> Iterator[tuple[Path, str | None]]:
    """Each file as given; each folder's image files (by suffix, sorted; sub-folders too when `recursive`).

    Args:
        paths: files and folders, as the user gave them.
        recursive: search the folders' sub-folders as well.

    Yields:
        (path, problem): problem is None, or why the path yields no image (a folder with none; where only its
        sub-folders hold images, the problem says to add `--recursive`).
    """
    for path in paths:
        if path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            images = sorted(p for p in found if _is_image(p))
            if not images:
                problem = "folder holds no image files (" + ", ".join(sorted(IMAGE_SUFFIXES)) + ")"
                if not recursive and any(_is_image(p) for p in path.rglob("*")):
                    problem += "; its sub-folders do: add `--recursive`"
                yield path, problem
            for image in images:
                yield image, None
        else:
            yield path, None


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
