"""The image-folder layout of FER2013 copies: train/<class>/*.png, test/<class>/..., with aliases."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.data import load_dataset, read_image_folders
from emolens.errors import DataFormatError
from emolens.types import EMOTIONS
from support import FOLDER_CLASSES, write_image_folders


def test_reads_splits_and_class_aliases(tiny_image_folders: Path) -> None:
    dataset = read_image_folders(tiny_image_folders)
    assert len(dataset) == 7 * (3 + 2)
    assert dataset.images.shape == (35, 48, 48) and dataset.images.dtype == np.uint8
    train, test = dataset.split("Training"), dataset.split("PrivateTest")
    assert np.bincount(train.labels, minlength=7).tolist() == [3] * 7
    assert np.bincount(test.labels, minlength=7).tolist() == [2] * 7
    assert len(dataset.split("PublicTest")) == 0


def test_aliases_map_to_fer2013_labels(tmp_path: Path) -> None:
    root = write_image_folders(tmp_path / "f", {"train": 1})
    dataset = read_image_folders(root)
    # Files are read class folder by class folder in sorted order; each folder's label is its FER2013 index.
    by_folder = dict(zip(sorted(FOLDER_CLASSES), dataset.labels.tolist(), strict=True))
    assert {name: EMOTIONS[label] for name, label in by_folder.items()} == {
        "angry": "angry", "disgusted": "disgust", "fearful": "fear", "happy": "happy",
        "neutral": "neutral", "sad": "sad", "surprised": "surprise",
    }  # fmt: skip


def test_validation_folder_is_publictest(tmp_path: Path) -> None:
    root = write_image_folders(tmp_path / "f", {"train": 1, "validation": 1, "test": 1})
    dataset = load_dataset(root)
    assert [len(dataset.split(s)) for s in ("Training", "PublicTest", "PrivateTest")] == [7, 7, 7]


def test_colour_and_large_images_become_48px_grey(tiny_image_folders: Path) -> None:
    colour = tiny_image_folders / "train" / "happy" / "happy_1.png"
    assert cv2.imread(str(colour)).shape == (96, 96, 3)
    dataset = read_image_folders(tiny_image_folders)
    assert dataset.images.shape[1:] == (48, 48)


def test_unreadable_image_names_the_file(tiny_image_folders: Path) -> None:
    bad = tiny_image_folders / "train" / "sad" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    with pytest.raises(DataFormatError) as info:
        read_image_folders(tiny_image_folders)
    assert info.value.path == str(bad) and "unreadable image" in str(info.value)


def test_skip_leaves_unreadable_images_out_and_keeps_the_rest(tiny_image_folders: Path) -> None:
    bad = tiny_image_folders / "train" / "sad" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    empty = tiny_image_folders / "test" / "angry" / "empty.jpg"
    empty.write_bytes(b"")
    dataset = load_dataset(tiny_image_folders, on_bad_row="skip")
    assert len(dataset) == 35 and dataset.skipped_files == (str(empty), str(bad))  # test/ is read before train/
    assert dataset.split("PrivateTest").skipped_files == dataset.skipped_files


def test_empty_image_file_names_the_file(tiny_image_folders: Path) -> None:
    bad = tiny_image_folders / "test" / "angry" / "empty.jpg"
    bad.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"empty\.jpg"):
        read_image_folders(tiny_image_folders)


def test_unknown_class_folder_is_named(tiny_image_folders: Path) -> None:
    (tiny_image_folders / "train" / "contempt").mkdir()
    with pytest.raises(DataFormatError, match="unknown class folder 'contempt'"):
        read_image_folders(tiny_image_folders)


def test_a_folder_without_split_folders_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "happy").mkdir()
    with pytest.raises(DataFormatError, match="expected train/ and test/"):
        read_image_folders(tmp_path)


def test_non_image_files_are_ignored(tiny_image_folders: Path) -> None:
    (tiny_image_folders / "train" / "happy" / "README.txt").write_text("not an image")
    assert len(read_image_folders(tiny_image_folders)) == 35
