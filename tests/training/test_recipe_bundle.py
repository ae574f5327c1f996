"""Restoring the recipe's state.tar: the same checks on every Python 3.10+, with or without `tarfile`'s data filter
(3.10.12+ / 3.11.4+), and a hostile tar refused whole rather than unpacked outside the folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from emolens_recipe.bundle import checked_member_path, extract_file, restore_bundle
from emolens_recipe.errors import RecipeError

HAS_FILTER = hasattr(tarfile, "data_filter")
BRANCHES = [
    pytest.param(True, marks=pytest.mark.skipif(not HAS_FILTER, reason="this Python has no tarfile.data_filter")),
    False,
]


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


@pytest.mark.parametrize("use_filter", BRANCHES)
def test_both_branches_write_the_same_plain_file(tmp_path: Path, use_filter: bool) -> None:
    bundle = _tar(tmp_path / "state.tar", [(_info("run/best.pt"), b"weights")])
    work = tmp_path / "work"
    work.mkdir()
    with tarfile.open(bundle) as tar:
        member = tar.getmember("run/best.pt")
        assert checked_member_path(member, work, bundle) == work / "run" / "best.pt"
        extract_file(tar, member, work, use_filter=use_filter)
    assert (work / "run" / "best.pt").read_bytes() == b"weights"
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*")) == ["run", "run/best.pt"]


HOSTILE = {
    "parent": (_info("../evil.txt"), "climbs out"),
    "nested parent": (_info("a/../../evil.txt"), "climbs out"),
    "absolute": (_info("/tmp/evil.txt"), "absolute path"),
    "symlink": (_info("link", tarfile.SYMTYPE, "/etc"), "not a plain file"),
    "hardlink": (_info("hard", tarfile.LNKTYPE, "../../etc/passwd"), "not a plain file"),
    "fifo": (_info("pipe", tarfile.FIFOTYPE), "not a plain file"),
    "device": (_info("dev", tarfile.CHRTYPE), "not a plain file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_member_is_refused_by_name_and_nothing_lands_outside(tmp_path: Path, case: str) -> None:
    info, message = HOSTILE[case]
    # A good file first, the hostile member, then a file that must not be unpacked after the refusal.
    bundle = _tar(tmp_path / "state.tar", [(_info("plan.json"), b"{}"), (info, b"x"), (_info("later.txt"), b"y")])
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    with pytest.raises(RecipeError, match=message) as caught:
        restore_bundle(bundle, work)
    assert repr(info.name) in str(caught.value) and str(bundle) in str(caught.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "plan.json", "state.tar", "work"]


def test_a_symlink_already_in_the_folder_cannot_redirect_a_member(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "run").symlink_to(outside, target_is_directory=True)
    bundle = _tar(tmp_path / "state.tar", [(_info("run/best.pt"), b"weights")])
    with pytest.raises(RecipeError, match="lands outside"):
        restore_bundle(bundle, work)
    assert list(outside.iterdir()) == []
