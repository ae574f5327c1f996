"""The command's front door: --version, `python -m emolens`, commands in the order people use them,
help on every option with its default."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

import emolens
from emolens.cli import build_parser
from support import REPO, run_emolens

EVERYDAY_ORDER = ["analyze", "video", "webcam", "serve"]
MODEL_ORDER = ["train", "eval", "export"]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_version_and_python_dash_m() -> None:
    done = run_emolens("--version")
    assert done.returncode == 0 and done.stdout.splitlines()[0] == f"emolens {emolens.__version__}"
    module = subprocess.run(
        [sys.executable, "-m", "emolens", "--version"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert module.returncode == 0 and module.stdout.strip() == done.stdout.strip()


def test_commands_are_listed_in_the_order_people_use_them() -> None:
    names = list(_subcommands())
    assert names[0] == "analyze" and [n for n in names if n in EVERYDAY_ORDER] == EVERYDAY_ORDER
    # Everyday commands (and any added beside them, such as batch) come before the model-making ones.
    assert names.index("serve") < min(names.index(n) for n in MODEL_ORDER)
    assert [n for n in names if n in MODEL_ORDER] == MODEL_ORDER
    text = run_emolens("--help").stdout
    assert [text.index(f"    {n} ") for n in EVERYDAY_ORDER + MODEL_ORDER] == sorted(
        text.index(f"    {n} ") for n in EVERYDAY_ORDER + MODEL_ORDER
    )


@pytest.mark.parametrize("command", EVERYDAY_ORDER + MODEL_ORDER)
def test_every_option_has_help_and_shows_its_default(command: str) -> None:
    parser = _subcommands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"emolens {command} {'/'.join(action.option_strings) or action.dest} has no help"
    text = parser.format_help()
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in (parser._get_formatter()._expand_help(action)), (command, action.option_strings)
    assert "(default: " in text or command == "export"


def test_the_web_app_runs_videos_with_the_cli_defaults() -> None:
    # The Video tab analyses with the options `emolens serve` builds; left at their defaults they must be
    # the ones `emolens video` uses (both read RecognizerOptions), so the tab is as fast as the command.
    from emolens.api import RecognizerOptions
    from emolens.cli.common import recognizer_options

    parser = build_parser()
    served = recognizer_options(parser.parse_args(["serve"]))
    command = recognizer_options(parser.parse_args(["video", "clip.mp4"]))
    assert served == command == RecognizerOptions()


def test_recipe_is_a_hidden_pointer_to_the_training_folder() -> None:
    # The GPU recipe left the package (training/emolens_recipe); an old command line gets one line saying where.
    assert "recipe" not in run_emolens("--help").stdout
    for argv in (("recipe",), ("recipe", "run", "--pack", "x.npz", "--budget-s", "5"), ("recipe", "--help")):
        done = run_emolens(*argv)
        assert done.returncode == 2, argv
        assert done.stderr.count("\n") == 1 and "scripts/train-on-device.sh" in done.stderr, argv
        assert (REPO / "training" / "emolens_recipe" / "__main__.py").is_file()


def test_train_flags_are_generated_from_the_config_fields() -> None:
    # Defaults, types and help live in TrainConfig/AugmentConfig; the flags read them, so no default is retyped.
    from dataclasses import fields

    from emolens.cli.common import field_values
    from emolens.nn.config import AugmentConfig, TrainConfig

    def config(*flags: str) -> TrainConfig:
        args = build_parser().parse_args(["train", "--data", "d.csv", "--out", "run", *flags])
        augment = AugmentConfig(**field_values(args, AugmentConfig))
        return TrainConfig(**field_values(args, TrainConfig), augment=augment)

    assert config() == TrainConfig()
    cfg = config(
        "--mixup", "0.2", "--no-bf16", "--teacher", "a.pt", "--teacher", "b.pt", "--distill-weight", "0.5",
        "--init", "x.pt", "--model-kwargs", '{"width": 8}', "--blur-p", "0", "--epochs", "3", "--optimizer", "adamw",
    )  # fmt: skip
    assert (cfg.mixup_alpha, cfg.bf16, cfg.teachers, cfg.distill_weight) == (0.2, False, ["a.pt", "b.pt"], 0.5)
    assert (cfg.init_from, cfg.model_kwargs, cfg.augment.blur_p, cfg.epochs, cfg.optimizer) == (
        "x.pt", {"width": 8}, 0.0, 3, "adamw",
    )  # fmt: skip
    flagged = [f for cls in (TrainConfig, AugmentConfig) for f in fields(cls) if "help" in f.metadata]
    text = _subcommands()["train"].format_help()
    assert len(flagged) == 20 and all(f.metadata["help"].split(";")[0][:30] in " ".join(text.split()) for f in flagged)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--data", "d", "--out", "o", "--optimizer", "adam"])
