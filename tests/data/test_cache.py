"""The parse cache: a second load of the same bytes skips parsing; changed bytes parse again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emolens.data import cache as cache_module
from emolens.data import load_dataset
from support import fer_rows


def _refuse_to_parse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the csv was parsed again although the cache holds it")


def test_second_load_hits_the_cache(
    make_fer_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_path, cache_dir = make_fer_csv(), tmp_path / "cache"
    first = load_dataset(csv_path, cache_dir=cache_dir)
    assert len(list(cache_dir.glob("*.npz"))) == 1
    monkeypatch.setattr(cache_module, "read_fer2013_csv", _refuse_to_parse)
    second = load_dataset(csv_path, cache_dir=cache_dir)
    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.labels, first.labels)
    np.testing.assert_array_equal(second.usage, first.usage)
    assert second.source == str(csv_path)


def test_a_changed_file_misses_the_cache(make_fer_csv: Callable[..., Path], tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    lines = fer_rows()
    csv_path = make_fer_csv("data.csv", lines)
    before = load_dataset(csv_path, cache_dir=cache_dir)
    lines[0] = "6" + lines[0][1:]  # same size, one label changed
    make_fer_csv("data.csv", lines)
    after = load_dataset(csv_path, cache_dir=cache_dir)
    assert before.labels[0] == 0 and after.labels[0] == 6
    assert len(list(cache_dir.glob("*.npz"))) == 2


def test_skip_mode_is_cached_separately_with_its_skipped_rows(
    make_fer_csv: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = fer_rows()
    lines.insert(1, "12," + lines[0].split(",", 1)[1])
    csv_path, cache_dir = make_fer_csv("bad.csv", lines), tmp_path / "cache"
    assert load_dataset(csv_path, "skip", cache_dir).skipped_rows == (3,)
    monkeypatch.setattr(cache_module, "read_fer2013_csv", _refuse_to_parse)
    assert load_dataset(csv_path, "skip", cache_dir).skipped_rows == (3,)
    with pytest.raises(AssertionError, match="parsed again"):
        load_dataset(csv_path, "error", cache_dir)  # another mode is another cache entry


def test_an_unreadable_cache_file_is_parsed_again(make_fer_csv: Callable[..., Path], tmp_path: Path) -> None:
    csv_path, cache_dir = make_fer_csv(), tmp_path / "cache"
    first = load_dataset(csv_path, cache_dir=cache_dir)
    (cached,) = cache_dir.glob("*.npz")
    cached.write_bytes(b"garbage")
    again = load_dataset(csv_path, cache_dir=cache_dir)
    np.testing.assert_array_equal(again.images, first.images)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_dataset(tmp_path / "nope.csv")
