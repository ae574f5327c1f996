"""Expanding the inputs: folders (recursive), globs, manifests in both forms, and arguments that name nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from emolens.batch import expand_inputs
from emolens.batch.inputs import read_manifest
from emolens.batch.runner import start_order
from emolens.batch.work import Task
from emolens.errors import MediaError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("a.jpg", "sub/b.PNG", "sub/deeper/c.mp4", "sub/notes.txt", "sub/.hidden.jpg", "d.mov"):
        path = tmp_path / "tree" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path / "tree"


def paths(items: list) -> list[str]:
    return [item.path for item in items]


def test_a_folder_is_searched_recursively_for_media_only(tree: Path) -> None:
    found = paths(expand_inputs([tree]))
    assert found == [str(tree / n) for n in ("a.jpg", "d.mov", "sub/b.PNG", "sub/deeper/c.mp4")]


def test_globs_expand_and_recurse_with_double_star(tree: Path) -> None:
    assert paths(expand_inputs([str(tree / "*.jpg")])) == [str(tree / "a.jpg")]
    assert paths(expand_inputs([str(tree / "**" / "*.mp4")])) == [str(tree / "sub/deeper/c.mp4")]


def test_each_file_once_in_the_order_given(tree: Path) -> None:
    found = paths(expand_inputs([tree / "d.mov", tree, str(tree / "*.jpg")]))
    assert found[0] == str(tree / "d.mov")
    assert len(found) == len(set(found)) == 4


def test_a_named_file_is_taken_whatever_its_suffix(tree: Path) -> None:
    assert paths(expand_inputs([tree / "sub" / "notes.txt"])) == [str(tree / "sub/notes.txt")]


def test_arguments_that_name_nothing_become_inputs_with_a_problem(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    items = expand_inputs([tree / "missing.jpg", str(tree / "*.webm"), tmp_path / "empty"])
    assert [item.problem for item in items] == [None, "glob matches no file", "folder holds no photo or video files"]
    assert items[0].path == str(tree / "missing.jpg")  # fails by name when opened


def test_plain_manifest_one_path_a_line_relative_to_its_folder(tree: Path) -> None:
    manifest = tree / "list.txt"
    manifest.write_text(f"# a comment\na.jpg\n\n  sub/b.PNG  \n{tree / 'd.mov'}\n", encoding="utf-8")
    assert paths(expand_inputs([], manifest)) == [str(tree / n) for n in ("a.jpg", "sub/b.PNG", "d.mov")]


def test_csv_manifest_takes_the_path_column(tree: Path) -> None:
    manifest = tree / "list.csv"
    manifest.write_text('id,path,label\n1,a.jpg,x\n2,"sub/b.PNG",y\n3,,z\n', encoding="utf-8")
    assert read_manifest(manifest) == ["a.jpg", "sub/b.PNG"]
    assert paths(expand_inputs([], manifest)) == [str(tree / "a.jpg"), str(tree / "sub/b.PNG")]


def test_csv_manifest_with_only_a_path_column(tree: Path) -> None:
    manifest = tree / "one.csv"
    manifest.write_text("path\nd.mov\n", encoding="utf-8")
    assert read_manifest(manifest) == ["d.mov"]


def test_unreadable_manifest_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="missing\\.txt"):
        expand_inputs([], tmp_path / "missing.txt")


def test_videos_start_first_then_photos_each_largest_first() -> None:
    # A short clip smaller than a large photo still takes far longer: it must not be left for the end of a run.
    tasks = [
        Task("/a/big.jpg", "k1", 900_000),
        Task("/a/short.mp4", "k2", 200_000),
        Task("/a/small.png", "k3", 80_000),
        Task("/a/long.MOV", "k4", 1_300_000),
        Task("/a/mid.jpg", "k5", 300_000),
    ]
    assert [t.path for t in start_order(tasks)] == [
        "/a/long.MOV",
        "/a/short.mp4",
        "/a/big.jpg",
        "/a/mid.jpg",
        "/a/small.png",
    ]
