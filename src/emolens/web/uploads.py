"""The UI's file inputs: only files that Gradio itself stored in this server's upload folder are opened.

Gradio passes a file path that the browser sent back; without this check (and Gradio's own, which runs
only on a Blocks marked as launched) a client could name /etc/passwd, or a symlink or `..` path leading
there, and have the server read it and hand it back.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from emolens.errors import MediaError


def uploaded_file(path: str | Path, upload_dir: Path) -> Path:
    """`path` with symlinks and `..` resolved, if it is a regular file inside `upload_dir`.

    Args:
        path: the path a UI event carried.
        upload_dir: the folder Gradio stores uploads in.

    Returns:
        The resolved path.

    Raises:
        MediaError: naming only the file's base name (never a server path), when it lies outside the upload
            folder, is not a regular file or does not exist.
    """
    name = Path(path).name or "upload"
    resolved = Path(os.path.realpath(path))
    root = Path(os.path.realpath(upload_dir))
    if not resolved.is_relative_to(root) or resolved == root:
        raise MediaError(f"{name}: not a file uploaded to this server")
    if not resolved.is_file():
        raise MediaError(f"{name}: the uploaded file is gone (uploads are kept for a limited time)")
    return resolved


def remove_old_files(folder: Path, max_age_s: float, now_s: float | None = None) -> int:
    """Delete files under `folder` last modified more than `max_age_s` ago, then the folders left empty.

    Args:
        folder: the uploads folder; a missing one is left alone.
        max_age_s: how old a file may be.
        now_s: the present, as time.time(); None reads the clock (tests pass a fixed one).

    Returns:
        How many files were deleted.
    """
    now_s = time.time() if now_s is None else now_s
    removed = 0
    if not folder.is_dir():
        return 0
    for root, dirs, files in os.walk(folder, topdown=False):
        for file in files:
            path = Path(root) / file
            try:
                if now_s - path.lstat().st_mtime > max_age_s:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # gone already, or in use by a request that will finish with it
        for child in dirs:
            with contextlib.suppress(OSError):
                (Path(root) / child).rmdir()  # only succeeds when empty
    return removed
