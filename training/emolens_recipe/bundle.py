"""The recipe's state between calls: a tar of what a fresh machine needs to continue, and its safe restore.

Standard library only (no torch), so the restore's checks run, and are tested, on any Python 3.10+.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from .errors import RecipeError


def write_bundle(workdir: Path, names: list[str], out: Path, limit_bytes: int) -> list[str]:
    """A tar of what a later call on a fresh machine needs, in order of worth, while it stays under the limit:
    the plan, each job's log and done mark, the best checkpoints, then the last ones (which carry the optimiser,
    to resume mid-run).

    Args:
        workdir: the recipe's folder.
        names: the jobs' folder names.
        out: the tar to write.
        limit_bytes: its largest size.

    Returns:
        The paths that went in, relative to `workdir`.
    """
    candidates = [workdir / "plan.json"]
    for name in names:
        candidates += [workdir / name / f for f in ("log.csv", "train.json", "done")]
    candidates += [workdir / name / "best.pt" for name in names]
    candidates += [workdir / name / "last.pt" for name in names if not (workdir / name / "done").exists()]
    included, total = [], 0
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in candidates:
            if not path.is_file():
                continue
            size = path.stat().st_size + 1024  # and its tar header
            if total + size > limit_bytes:
                continue
            rel = path.relative_to(workdir).as_posix()
            tar.add(path, arcname=rel)
            included.append(rel)
            total += size
    out.write_bytes(buf.getvalue())
    return included


def restore_bundle(bundle: Path, workdir: Path) -> list[str]:
    """Unpack a bundle into `workdir`, keeping any file already there (a warm machine's is as new or newer).

    Args:
        bundle: a tar `write_bundle` wrote.
        workdir: the recipe's folder.

    Returns:
        The paths unpacked, relative to `workdir`.

    Raises:
        RecipeError: the tar holds a member that is not a plain file or folder, or one that would land outside
            `workdir` (an absolute path, a `..`, a link); nothing after it is unpacked.
    """
    restored = []
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            target = checked_member_path(member, workdir, bundle)
            if not member.isfile() or target.exists():
                continue  # folders are made as their files need them
            extract_file(tar, member, workdir, use_filter=hasattr(tarfile, "data_filter"))
            restored.append(member.name)
    return restored


def checked_member_path(member: tarfile.TarInfo, workdir: Path, bundle: Path) -> Path:
    """Where a member of a bundle goes, once it is known to be a plain file or folder inside `workdir`.

    The same checks on every Python: `tarfile`'s `filter="data"` exists only from 3.10.12 / 3.11.4, and a bundle
    may come from anywhere the device machine's output was copied.

    Args:
        member: the tar member.
        workdir: the folder it is unpacked into.
        bundle: the tar, for the message.

    Returns:
        The member's path under `workdir`.

    Raises:
        RecipeError: an absolute path, a `..` part, a link, a device or pipe.
    """
    name = member.name
    where = f"{bundle}: {name!r}"
    if not (member.isfile() or member.isdir()):
        raise RecipeError(f"{where} is not a plain file or folder (a link, device or pipe); refused")
    if name.startswith(("/", "\\")) or Path(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise RecipeError(f"{where} is an absolute path; refused")
    if ".." in Path(name).parts or ".." in name.split("\\"):
        raise RecipeError(f"{where} climbs out of the folder ('..'); refused")
    root = workdir.resolve()
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise RecipeError(f"{where} lands outside {workdir}; refused")
    return workdir / name


def extract_file(tar: tarfile.TarFile, member: tarfile.TarInfo, workdir: Path, use_filter: bool) -> None:
    """Write one plain-file member (already passed by `checked_member_path`) under `workdir`.

    Args:
        tar: the open bundle.
        member: a plain-file member.
        workdir: the folder it goes into.
        use_filter: let `tarfile` extract it under `filter="data"` (Python 3.10.12+ / 3.11.4+); otherwise copy its
            bytes ourselves, which creates nothing but folders and this one file, with default permissions.

    Raises:
        RecipeError: the member has no data (not a plain file).
    """
    if use_filter:
        tar.extract(member, workdir, filter="data")
        return
    source = tar.extractfile(member)
    if source is None:  # cannot happen for a plain file; a checked member is one
        raise RecipeError(f"{member.name!r}: no data in the tar")
    target = workdir / member.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
