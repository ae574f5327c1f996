"""The model-running commands share one set of flags whose defaults come from the options dataclasses."""

from __future__ import annotations

from dataclasses import fields

import pytest

from emolens.api import RecognizerOptions
from emolens.cli import build_parser
from emolens.cli.common import recognizer_options, render_options
from emolens.render import RenderOptions
from emolens.runtime.pipeline import PipelineOptions
from support import run_emolens

RUN_MODEL = {"analyze": ["x.jpg"], "video": ["x.mp4"], "webcam": [], "serve": []}


@pytest.mark.parametrize("command", sorted(RUN_MODEL))
def test_defaults_are_the_dataclasses(command: str) -> None:
    args = build_parser().parse_args([command, *RUN_MODEL[command]])
    built = recognizer_options(args)
    defaults = RecognizerOptions()
    assert built.model == defaults.model
    assert built.min_face_px == defaults.min_face_px
    assert built.detector_max_side_px == defaults.detector_max_side_px
    assert built.threads == defaults.threads
    assert built.pipeline == defaults.pipeline == PipelineOptions()
    assert (built.detector, built.min_score) == (defaults.detector, defaults.min_score) == ("auto", built.min_score)
    assert args.lang == "en"


@pytest.mark.parametrize("command", sorted(RUN_MODEL))
def test_every_detecting_command_takes_detector_and_min_score(command: str) -> None:
    args = build_parser().parse_args([command, *RUN_MODEL[command], "--detector", "haar", "--min-score", "0.7"])
    options = recognizer_options(args)
    assert (options.detector, options.min_score) == ("haar", 0.7)
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, *RUN_MODEL[command], "--detector", "yolo"])
    with pytest.raises(ValueError, match=r"^--min-score must be in"):
        recognizer_options(build_parser().parse_args([command, *RUN_MODEL[command], "--min-score", "1.5"]))


@pytest.mark.parametrize("command", ["video", "webcam", "serve"])
def test_video_commands_take_the_same_flags(command: str) -> None:
    flags = ["--model", "accurate", "--min-face-px", "60", "--detect-every", "2", "--detector-side-px", "320"]
    args = build_parser().parse_args([command, *RUN_MODEL[command], *flags, "--no-smooth", "--lang", "vi"])
    options = recognizer_options(args)
    assert (options.model, options.min_face_px, options.pipeline.detect_every) == ("accurate", 60, 2)
    assert (options.detector_max_side_px, options.pipeline.smooth, args.lang) == (320, False, "vi")


def test_one_options_tree_with_a_flat_view() -> None:
    # The pipeline's options live once, nested; from_flat and flat take and give both levels by field name.
    options = RecognizerOptions.from_flat(min_face_px=60, detect_every=4, smoothing_alpha=0.25, crop_margin=0.1)
    assert options == RecognizerOptions(
        min_face_px=60, pipeline=PipelineOptions(detect_every=4, smoothing_alpha=0.25, crop_margin=0.1)
    )
    flat = options.flat()
    assert [flat[k] for k in ("min_face_px", "detect_every", "smoothing_alpha", "crop_margin")] == [60, 4, 0.25, 0.1]
    assert RecognizerOptions.from_flat(**flat) == options
    assert RecognizerOptions(min_face_px=40) == RecognizerOptions()  # the README's example
    shared = {f.name for f in fields(RecognizerOptions)} & {f.name for f in fields(PipelineOptions)}
    assert shared == set()  # no field declared twice
    with pytest.raises(TypeError, match="unknown option"):
        RecognizerOptions.from_flat(detect_evry=2)


def test_out_of_range_pipeline_option_is_refused_by_recognizer_options() -> None:
    with pytest.raises(ValueError, match="smoothing_alpha"):
        RecognizerOptions.from_flat(smoothing_alpha=0.0)


DRAWING = {"analyze": ["x.jpg"], "video": ["x.mp4"], "webcam": []}


@pytest.mark.parametrize("command", sorted(DRAWING))
def test_drawing_commands_take_labels_only_defaulting_to_render_options(command: str) -> None:
    default = render_options(build_parser().parse_args([command, *DRAWING[command]]))
    assert default == RenderOptions()
    assert render_options(build_parser().parse_args([command, *DRAWING[command], "--labels-only"])).labels_only
    shown = run_emolens(command, "--help")
    assert shown.returncode == 0 and "--labels-only" in shown.stdout and "probability panel" in shown.stdout


def test_batch_takes_the_same_flags_and_defaults_but_no_lang(capsys: pytest.CaptureFixture[str]) -> None:
    # batch writes data (Parquet), whose emotion names stay English like JSON's: a --lang would change nothing.
    args = build_parser().parse_args(["batch", "x", "--out", "o"])
    assert recognizer_options(args) == RecognizerOptions()
    assert not hasattr(args, "lang")
    flags = ["--model", "accurate", "--detect-every", "2", "--detector", "haar", "--no-smooth"]
    options = recognizer_options(build_parser().parse_args(["batch", "x", "--out", "o", *flags]))
    assert (options.model, options.pipeline.detect_every, options.detector) == ("accurate", 2, "haar")
    assert options.pipeline.smooth is False
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["batch", "x", "--out", "o", "--lang", "vi"])
    assert refused.value.code == 2 and "--lang" in capsys.readouterr().err
