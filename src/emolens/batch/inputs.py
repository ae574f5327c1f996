"""What a batch run reads: files, folders (searched recursively), globs and manifests, expanded into inputs.

An argument that names nothing (a missing file, a glob that matches nothing, a folder without media) is not
a reason to stop the run: it becomes an input with a `problem`, reported as a failed row like any other.
"""

from __future__ import annotations

import csv
import glob
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from emolens.errors import MediaError
from emolens.io.media import MEDIA_SUFFIXES

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class InputItem:
    """One input: its absolute path, and why it cannot be processed when that is known before opening it."""

    path: str
    problem: str | None = None


def expand_inputs(arguments: Sequence[str | Path], manifest: str | Path | None = None) -> list[InputItem]:
    """Arguments (files, folders, globs) and the manifest's paths, each file once, in the order given.

    Args:
        arguments: files, folders (searched recursively for media by suffix) and glob patterns (`**` recurses).
        manifest: a text file with one path a line (blank lines and `#` comments skipped), or a CSV whose
            header has a `path` column; relative paths are taken from the manifest's folder.

    Returns:
        The inputs, duplicates removed (the first occurrence wins).

    Raises:
        MediaError: the manifest itself cannot be read.
    """
    entries: list[InputItem] = []
    for argument in arguments:
        entries.extend(_expand_one(str(argument), Path.cwd()))
    if manifest is not None:
        base = Path(manifest).absolute().parent
        for line in read_manifest(manifest):
            entries.extend(_expand_one(line, base))
    seen: set[str] = set()
    unique = []
    for item in entries:
        if item.path not in seen:
            seen.add(item.path)
            unique.append(item)
    return unique


def read_manifest(path: str | Path) -> list[str]:
    """The paths a manifest lists: a CSV whose header has a `path` column, or else one path a line.

    Args:
        path: the manifest file (UTF-8, a byte-order mark allowed).

    Returns:
        The paths as written (relative ones not yet resolved); blank lines and `#` comments left out.

    Raises:
        MediaError: the manifest cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise MediaError(f"{path}: cannot read the manifest ({getattr(err, 'strerror', None) or err})") from None
    lines = text.splitlines()
    header = [h.strip().lower() for h in next(csv.reader(lines[:1]), [])]
    if "path" in header:
        rows = csv.DictReader(io.StringIO(text), fieldnames=header)
        next(rows)  # the header itself
        return [row["path"].strip() for row in rows if (row.get("path") or "").strip()]
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def _expand_one(text: str, base: Path) -> Iterable[InputItem]:
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        found = sorted(str(p.absolute()) for p in path.rglob("*") if _is_media_file(p))
        if not found:
            yield InputItem(str(path.absolute()), "folder holds no photo or video files")
        yield from (InputItem(p) for p in found)
    elif not path.exists() and not path.is_symlink() and _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(str(path), recursive=True))
        files = [m for m in matches if not Path(m).is_dir()]
        if not files:
            yield InputItem(str(path), "glob matches no file")
        yield from (InputItem(str(Path(m).absolute())) for m in files)
    else:
        yield InputItem(str(path.absolute()))  # a missing or unreadable file fails when it is opened, by name


def _is_media_file(path: Path) -> bool:
    # A folder search picks up MEDIA_SUFFIXES; a file named on the command line or in a manifest is taken
    # whatever its suffix, and routed by its content.
    hidden = any(part.startswith(".") for part in path.parts[-1:])
    return not hidden and path.suffix.lower() in MEDIA_SUFFIXES and path.is_file()
