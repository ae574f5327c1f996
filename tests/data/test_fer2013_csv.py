"""Reading fer2013.csv as users have it: plain, gzip, xz; every malformed row named by file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emolens.data import SPLITS, read_fer2013_csv
from emolens.errors import DataFormatError
from support import TINY_SPLITS, fer_rows


@pytest.mark.parametrize("name", ["tiny.csv", "tiny.csv.gz", "tiny.csv.xz"])
def test_reads_plain_and_compressed_files_alike(make_fer_csv: Callable[..., Path], name: str) -> None:
    dataset = read_fer2013_csv(make_fer_csv(name))
    reference = read_fer2013_csv(make_fer_csv("reference.csv"))
    assert len(dataset) == sum(n for _, n in TINY_SPLITS)
    assert dataset.images.shape == (len(dataset), 48, 48) and dataset.images.dtype == np.uint8
    assert dataset.labels.dtype == np.int64
    np.testing.assert_array_equal(dataset.images, reference.images)
    np.testing.assert_array_equal(dataset.labels, reference.labels)
    for split, n in TINY_SPLITS:
        assert len(dataset.split(split)) == n
        assert set(dataset.split(split).labels.tolist()) == set(range(7))
    assert dataset.skipped_rows == ()


def test_pixels_keep_their_order(make_fer_csv: Callable[..., Path]) -> None:
    pixels = np.arange(48 * 48) % 256
    line = "3," + " ".join(map(str, pixels)) + ",Training"
    dataset = read_fer2013_csv(make_fer_csv("one.csv", [line]))
    np.testing.assert_array_equal(dataset.images[0], pixels.reshape(48, 48))
    assert dataset.labels.tolist() == [3] and SPLITS[dataset.usage[0]] == "Training"


def test_header_columns_may_come_in_any_order(make_fer_csv: Callable[..., Path]) -> None:
    label, pixels, usage = fer_rows()[0].split(",")
    dataset = read_fer2013_csv(
        make_fer_csv("reordered.csv", [f"{usage},{label},{pixels}"], header="Usage,emotion,pixels")
    )
    assert dataset.labels.tolist() == [int(label)]


GOOD = fer_rows()[0]
LABEL, PIXELS, USAGE = GOOD.split(",")
TOKENS = PIXELS.split()

MALFORMED: dict[str, tuple[str, str]] = {
    # case: (row, a phrase the message must contain)
    "missing column": (f"{LABEL},{PIXELS}", "expected 3 columns, found 2"),
    "extra column": (f"{LABEL},{PIXELS},{USAGE},extra", "expected 3 columns, found 4"),
    "non-integer pixel": (f"{LABEL},{' '.join(['12x', *TOKENS[1:]])},{USAGE}", "pixel '12x' is not an integer"),
    "too few pixels": (f"{LABEL},{' '.join(TOKENS[:-1])},{USAGE}", "expected 2304 pixels, found 2303"),
    "too many pixels": (f"{LABEL},{PIXELS} 7,{USAGE}", "expected 2304 pixels, found 2305"),
    "pixel above 255": (f"{LABEL},{' '.join(['256', *TOKENS[1:]])},{USAGE}", "0-255"),
    "label 7": (f"7,{PIXELS},{USAGE}", "label '7' is not an integer in 0-6"),
    "label -1": (f"-1,{PIXELS},{USAGE}", "label '-1'"),
    "label not a number": (f"happy,{PIXELS},{USAGE}", "label 'happy'"),
    "unknown Usage": (f"{LABEL},{PIXELS},Validation", "unknown Usage 'Validation'"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_each_malformed_row_names_file_and_line(make_fer_csv: Callable[..., Path], case: str) -> None:
    bad_row, phrase = MALFORMED[case]
    lines = fer_rows()
    lines.insert(3, bad_row)  # header is line 1, so the bad row is line 5
    path = make_fer_csv("bad.csv", lines)
    with pytest.raises(DataFormatError) as info:
        read_fer2013_csv(path)
    err = info.value
    assert err.path == str(path) and err.line == 5
    assert str(err).startswith(f"{path}:5: ")
    assert phrase in str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_skip_counts_bad_rows_and_loads_the_rest(make_fer_csv: Callable[..., Path], case: str) -> None:
    bad_row, _ = MALFORMED[case]
    lines = fer_rows()
    lines.insert(3, bad_row)
    lines.append(bad_row)
    dataset = read_fer2013_csv(make_fer_csv("bad.csv", lines), on_bad_row="skip")
    assert dataset.skipped_rows == (5, len(lines) + 1)
    assert len(dataset) == len(lines) - 2
    np.testing.assert_array_equal(dataset.images, read_fer2013_csv(make_fer_csv("good.csv")).images)


def test_malformed_row_in_compressed_file_names_the_compressed_file(make_fer_csv: Callable[..., Path]) -> None:
    lines = fer_rows()
    lines.insert(0, f"9,{PIXELS},{USAGE}")
    path = make_fer_csv("bad.csv.xz", lines)
    with pytest.raises(DataFormatError, match=r"bad\.csv\.xz:2: label '9'"):
        read_fer2013_csv(path)


def test_wrong_header_is_line_1(make_fer_csv: Callable[..., Path]) -> None:
    path = make_fer_csv("noheader.csv", fer_rows(), header="label,image,split")
    with pytest.raises(DataFormatError) as info:
        read_fer2013_csv(path)
    assert info.value.line == 1 and "emotion,pixels,Usage" in str(info.value)


def test_a_file_of_only_bad_rows_is_an_error_even_when_skipping(make_fer_csv: Callable[..., Path]) -> None:
    path = make_fer_csv("allbad.csv", [f"8,{PIXELS},{USAGE}"] * 3)
    with pytest.raises(DataFormatError, match="no usable rows"):
        read_fer2013_csv(path, on_bad_row="skip")


def test_blank_lines_are_not_rows(make_fer_csv: Callable[..., Path]) -> None:
    lines = fer_rows()
    lines.insert(2, "")
    dataset = read_fer2013_csv(make_fer_csv("blank.csv", lines))
    assert len(dataset) == len(lines) - 1 and dataset.skipped_rows == ()


def test_bytes_that_are_not_utf8_name_file_line_and_column(make_fer_csv: Callable[..., Path]) -> None:
    path = make_fer_csv("latin.csv")
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3][:2] + b"\xff" + lines[3][2:]  # a stray byte in the third row (line 4)
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataFormatError, match=r"latin\.csv:4: byte 0xff at column 3 is not UTF-8 text"):
        read_fer2013_csv(path)
    assert len(read_fer2013_csv(path, on_bad_row="skip")) == len(read_fer2013_csv(make_fer_csv("good.csv"))) - 1
