"""Issue #31: a command that needs an optional package which is not installed says which extra brings it, in one
line and exit 2, never a ModuleNotFoundError traceback; the everyday commands and --help need none of them.

The packages are made unimportable in the subprocess (support.run_emolens_without), so these run on a machine
that has every extra, as CI's does."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from emolens.cli.common import EXTRA_OF_MODULE
from support import REPO, run_emolens_without, shared_path

#: Distribution names that differ from the import name.
DISTRIBUTION_OF_MODULE = {"multipart": "python-multipart"}


def test_every_optional_module_is_in_the_extra_the_message_names() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is in the standard library from Python 3.11")
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for module, extra in EXTRA_OF_MODULE.items():
        names = {re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower() for requirement in extras[extra]}
        assert DISTRIBUTION_OF_MODULE.get(module, module) in names, f"{module} is not in the '{extra}' extra"


def test_help_and_version_need_no_optional_package() -> None:
    for args in (["--help"], ["--version"], ["train", "--help"]):
        proc = run_emolens_without(sorted(EXTRA_OF_MODULE), *args, timeout_s=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip()


def one_line(proc_args: list[str | Path], missing: str, command: str, extra: str, tmp_path: Path) -> None:
    proc = run_emolens_without([missing], *proc_args, timeout_s=120, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"emolens: error: emolens {command} needs {missing}, which is not installed: pip install 'emolens[{extra}]'"
    ]


def test_train_without_torch(tiny_fer_csv: Path, tmp_path: Path) -> None:
    one_line(["train", "--data", tiny_fer_csv, "--out", tmp_path / "run"], "torch", "train", "train", tmp_path)


def test_export_without_torch(tmp_path: Path) -> None:
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"not read: torch is needed first")
    one_line(["export", checkpoint, "--out", tmp_path / "m.onnx"], "torch", "export", "train", tmp_path)


def test_eval_of_a_checkpoint_without_torch(tiny_fer_csv: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"not read: torch is needed first")
    one_line(["eval", checkpoint, "--data", tiny_fer_csv], "torch", "eval", "train", tmp_path)


def test_batch_without_pyarrow(tmp_path: Path) -> None:
    one_line(
        ["batch", shared_path("media", "obama.jpg"), "--out", tmp_path / "out"], "pyarrow", "batch", "batch", tmp_path
    )


def test_eval_of_an_onnx_model_needs_no_torch(tiny_fer_csv: Path, tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    scored = run_emolens_without(["torch"], "eval", "fast", "--data", tiny_fer_csv, "--json", env=cache)
    assert scored.returncode == 0, scored.stderr
    assert '"accuracy"' in scored.stdout


def test_serve_without_the_web_extra() -> None:
    # serve words its own line (it names the whole extra); either way one line and the pip command.
    proc = run_emolens_without(["gradio"], "serve", "--port", "0", timeout_s=120)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("emolens: error: ") and "gradio" in line and "pip install 'emolens[web]'" in line
