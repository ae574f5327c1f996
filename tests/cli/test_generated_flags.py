"""The flags of serve (and the other commands converted to it) are generated from their options dataclasses'
fields (`emolens.cli.common.add_field_flags`): every field has a flag or is named here with the reason it has none,
each flag's default is the field's and `--help` shows it."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from typing import Any

import pytest

from emolens.batch.options import BatchOptions
from emolens.cli import build_parser
from emolens.cli.common import field_flags, field_values, options_from_flags, recognizer_options
from emolens.data import LabelOptions, ReadOptions
from emolens.evaluate import EvalOptions
from emolens.nn.config import ExportOptions
from emolens.web.options import WebOptions

#: command -> (the arguments it cannot run without, its options dataclass, its fields without a flag of their own
#: and why). A field added to the dataclass fails this test until it gets a flag or a line here.
GENERATED: dict[str, tuple[list[str], type[Any], dict[str, str]]] = {
    "serve": (
        [],
        WebOptions,
        {
            "recognizer": "the flags every model-running command shares (RecognizerOptions)",
            "lang": "--lang, shared with the other commands that show emotion names",
        },
    ),
    "batch": (
        ["--out", "out"],
        BatchOptions,
        {
            "recognizer": "the flags every model-running command shares (RecognizerOptions)",
        },
    ),
    "eval": (
        ["fast", "--data", "fer2013.csv"],
        EvalOptions,
        {"read": "ReadOptions' flags, shared with train (test_train_and_eval_read_the_data_with_the_same_flags)"},
    ),
    "export": (["best.pt", "--out", "m.onnx"], ExportOptions, {}),
}


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


@pytest.mark.parametrize("command", sorted(GENERATED))
def test_every_field_has_a_flag_or_a_reason(command: str) -> None:
    _, options_class, without = GENERATED[command]
    names = {f.name for f in dataclasses.fields(options_class)}
    flagged = set(field_flags(options_class))
    assert flagged | set(without) == names, "a field has neither a flag nor a reason in GENERATED"
    assert not flagged & set(without)
    options = {o: a for a in _subparser(command)._actions for o in a.option_strings}
    assert set(field_flags(options_class).values()) <= set(options)


@pytest.mark.parametrize("command", sorted(GENERATED))
def test_each_flag_defaults_to_its_field_and_help_shows_it(command: str) -> None:
    needed, options_class, _ = GENERATED[command]
    parser = _subparser(command)
    options = {o: a for a in parser._actions for o in a.option_strings}
    formatter = parser._get_formatter()
    defaults = {f.name: f.default for f in dataclasses.fields(options_class)}
    for name, flag in field_flags(options_class).items():
        action = options[flag]
        default = defaults[name]
        assert action.help, flag
        assert (tuple(action.default) if isinstance(default, tuple) else action.default) == default, flag
        if default:  # argparse's formatter shows no 0 or False; those flags' help says what 0 means
            assert str(action.default) in formatter._expand_help(action), flag
            assert "default" in formatter._expand_help(action), flag
    args = build_parser().parse_args([command, *needed])
    assert field_values(args, options_class) == {n: defaults[n] for n in field_flags(options_class)}


def test_serve_flags_build_web_options() -> None:
    args = build_parser().parse_args(
        ["serve", "--timeout-s", "30", "--allow-origin", "https://a.example", "--allow-origin", "https://b.example",
         "--workers", "2", "--max-upload-mb", "5", "--max-frame-pixels", "1000000", "--max-rss-mb", "0",
         "--max-waiting", "3", "--upload-max-age-s", "60"]
    )  # fmt: skip
    options = WebOptions(**field_values(args, WebOptions))
    assert options.allowed_origins == ("https://a.example", "https://b.example")
    assert (options.request_timeout_s, options.workers, options.max_upload_mb) == (30.0, 2, 5.0)
    assert (options.max_frame_pixels, options.max_rss_mb) == (1_000_000, 0.0)
    assert (options.max_waiting, options.upload_max_age_s) == (3, 60.0)
    assert field_flags(WebOptions)["request_timeout_s"] == "--timeout-s"  # the name a refused value is reported under
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--max-pixels", "many"])


def test_batch_flags_build_batch_options() -> None:
    args = build_parser().parse_args(
        ["batch", "--out", "o", "--engine", "ray", "--workers", "3", "--ray-address", "auto", "--rows-per-part", "9"]
    )
    assert BatchOptions(**field_values(args, BatchOptions)) == BatchOptions(
        engine="ray", workers=3, ray_address="auto", rows_per_part=9
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["batch", "--out", "o", "--engine", "spark"])


def test_the_cli_parser_needs_no_pyarrow() -> None:
    # batch's flags come from emolens.batch.options, which loads without the Parquet half of the package.
    code = "import sys, emolens.cli; emolens.cli.build_parser(); print('pyarrow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "False", done.stderr


def test_eval_flags_build_eval_options() -> None:
    argv = ["eval", "fast", "--data", "d.csv", "--split", "PublicTest", "--tta", "flip", "--calibration", "--jitter"]
    args = build_parser().parse_args([*argv, "--seed", "7", "--on-bad-row", "skip", "--no-cache", "--batch-size", "8"])
    read = options_from_flags(ReadOptions, args)
    assert options_from_flags(EvalOptions, args, read=read) == EvalOptions(
        split="PublicTest", tta="flip", calibration=True, jitter=True, seed=7, batch_size=8,
        read=ReadOptions(on_bad_row="skip", no_cache=True),
    )  # fmt: skip
    assert options_from_flags(EvalOptions, build_parser().parse_args(argv[:4])) == EvalOptions()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "fast", "--data", "d.csv", "--split", "Validation"])


def test_export_flags_build_export_options() -> None:
    argv = ["export", "a.pt", "b.pt", "--out", "m.onnx", "--tta", "flip", "--temperature", "1.5", "--threads", "2"]
    args = build_parser().parse_args([*argv, "--calibration-faces", "64"])
    assert ExportOptions(**field_values(args, ExportOptions)) == ExportOptions(
        tta="flip", temperature=1.5, threads=2, calibration_faces=64
    )
    with pytest.raises(ValueError, match=r"^temperature must be positive"):
        ExportOptions(temperature=0.0)  # the command reports it as "--temperature must be positive, ..."
    assert field_flags(ExportOptions)["temperature"] == "--temperature"


def test_train_and_eval_read_the_data_with_the_same_flags() -> None:
    flags = field_flags(ReadOptions)
    assert flags == {"on_bad_row": "--on-bad-row", "no_cache": "--no-cache"}
    for argv in (["train", "--data", "d.csv", "--out", "run"], ["eval", "fast", "--data", "d.csv"]):
        assert options_from_flags(ReadOptions, build_parser().parse_args(argv)) == ReadOptions()
        args = build_parser().parse_args([*argv, "--on-bad-row", "skip", "--no-cache"])
        assert options_from_flags(ReadOptions, args) == ReadOptions(on_bad_row="skip", no_cache=True)
        options = {o: a for a in _subparser(argv[0])._actions for o in a.option_strings}
        assert options["--on-bad-row"].choices == ("error", "skip")
        with pytest.raises(SystemExit):
            build_parser().parse_args([*argv, "--on-bad-row", "ignore"])


def test_a_refused_value_is_named_by_its_flag() -> None:
    """Every command that builds options from flags reports a value the dataclass refuses under the flag typed."""
    cases = [
        (WebOptions, ["serve", "--timeout-s", "0"], "--timeout-s must be a positive finite number"),
        (WebOptions, ["serve", "--upload-max-age-s", "0.5"], "--upload-max-age-s must be a finite number, 1 or more"),
        (WebOptions, ["serve", "--max-waiting", "0"], "--max-waiting must be at least 1"),
        (BatchOptions, ["batch", "--out", "o", "--rows-per-part", "0"], "--rows-per-part must be at least 1"),
        (EvalOptions, ["eval", "fast", "--data", "d.csv", "--batch-size", "0"], "--batch-size must be at least 1"),
        (ExportOptions, ["export", "a.pt", "--out", "m.onnx", "--temperature", "0"], "--temperature must be positive"),
    ]
    for options_class, argv, message in cases:
        with pytest.raises(ValueError, match=f"^{message}"):
            options_from_flags(options_class, build_parser().parse_args(argv))
    with pytest.raises(ValueError, match=r"^--min-score must be in \[0, 1\]"):
        recognizer_options(build_parser().parse_args(["analyze", "x.jpg", "--min-score", "2"]))


def test_train_label_flags_build_label_options() -> None:
    argv = ["train", "--data", "d.csv", "--out", "run"]
    assert options_from_flags(LabelOptions, build_parser().parse_args(argv)) == LabelOptions()
    args = build_parser().parse_args([*argv, "--labels", "ferplus-soft", "--ferplus", "votes.csv"])
    assert options_from_flags(LabelOptions, args) == LabelOptions(labels="ferplus-soft", ferplus="votes.csv")
    with pytest.raises(ValueError, match=r"^--labels ferplus-majority needs --ferplus"):
        options_from_flags(LabelOptions, build_parser().parse_args([*argv, "--labels", "ferplus-majority"]))
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--labels", "votes"])
