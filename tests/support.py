"""Helpers and fixtures shared by the whole suite (re-exported by conftest.py): tiny synthetic FER2013 files,
the shared folder beside the repo, the emolens command. Test modules import helpers from here, not from
`conftest`, because tests/web has a conftest of its own and the two would shadow each other."""

from __future__ import annotations

import gzip
import importlib.util
import lzma
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or a skip naming it when this checkout has no shared folder beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data/media folder beside the repository)")
    return path


def load_script(name: str) -> ModuleType:
    """research/NAME.py as a module: the research scripts are not a package, and their helpers are tested directly."""
    spec = importlib.util.spec_from_file_location(name, REPO / "research" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- tiny synthetic FER2013 ------------------------------------------------------------------------

#: Rows per split in the default tiny set: 5 faces of each of the 7 classes in Training, 2 in each test split.
TINY_SPLITS: tuple[tuple[str, int], ...] = (("Training", 35), ("PublicTest", 14), ("PrivateTest", 14))


def synthetic_face(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 48x48 uint8 image whose class is learnable: a bright horizontal band at a class-specific height."""
    image = rng.integers(0, 80, (48, 48)).astype(np.uint8)
    image[label * 6 : label * 6 + 8, 4:44] += 150
    return image


def fer_rows(splits: Sequence[tuple[str, int]] = TINY_SPLITS, seed: int = 0) -> list[str]:
    """CSV lines (without header) `label,pixels,Usage`, labels cycling 0..6 within each split."""
    rng = np.random.default_rng(seed)
    lines = []
    for usage, n in splits:
        for i in range(n):
            label = i % 7
            pixels = " ".join(map(str, synthetic_face(label, rng).ravel()))
            lines.append(f"{label},{pixels},{usage}")
    return lines


def write_fer_csv(path: Path, lines: Sequence[str], header: str = "emotion,pixels,Usage") -> Path:
    """Write header + lines; .gz and .xz suffixes compress."""
    text = "\n".join([header, *lines]) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    elif path.suffix == ".xz":
        with lzma.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_fer_csv(tmp_path: Path) -> Callable[..., Path]:
    """make_fer_csv(name="tiny.csv", lines=None, splits=TINY_SPLITS, header=...) -> a FER2013 csv in tmp_path."""

    def make(
        name: str = "tiny.csv",
        lines: Sequence[str] | None = None,
        splits: Sequence[tuple[str, int]] = TINY_SPLITS,
        header: str = "emotion,pixels,Usage",
    ) -> Path:
        return write_fer_csv(tmp_path / name, fer_rows(splits) if lines is None else lines, header)

    return make


@pytest.fixture
def tiny_fer_csv(make_fer_csv: Callable[..., Path]) -> Path:
    return make_fer_csv()


#: Folder names as the popular image-folder copies of FER2013 spell them (aliases included on purpose).
FOLDER_CLASSES: tuple[str, ...] = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")


def write_image_folders(root: Path, per_class: dict[str, int] | None = None, seed: int = 0) -> Path:
    """root/<split>/<class>/*.png with synthetic faces; colour and off-size images on purpose."""
    per_class = per_class or {"train": 3, "test": 2}
    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for label, name in enumerate(FOLDER_CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                face = synthetic_face(label, rng)
                if i == 1:  # a colour 96x96 image, as some copies ship: must come back 48x48 grey
                    face = cv2.cvtColor(cv2.resize(face, (96, 96)), cv2.COLOR_GRAY2BGR)
                cv2.imwrite(str(folder / f"{name}_{i}.png"), face)
    return root


@pytest.fixture
def tiny_image_folders(tmp_path: Path) -> Path:
    return write_image_folders(tmp_path / "fer_folders")


# --- the command line, as a user runs it ------------------------------------------------------------


def emolens_command() -> list[str]:
    """The installed `emolens` script beside this interpreter, else the same entry point through -c."""
    script = Path(sys.executable).with_name("emolens")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from emolens.cli import main; sys.exit(main())"]


def run_emolens(
    *args: str | Path, timeout_s: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`emolens ARGS` in a subprocess with this interpreter; cache and threads kept inside the test."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [*emolens_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=full_env,
        cwd=REPO,
    )


@pytest.fixture
def emolens_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """run_emolens with XDG_CACHE_HOME inside tmp_path, so tests never touch the user's cache."""

    def run(*args: str | Path, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return run_emolens(*args, timeout_s=timeout_s, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})

    return run


# --- a tiny trained run, made once per session through the real command line ------------------------

#: Small on purpose: a one-epoch run takes seconds on one CPU thread.
TINY_TRAIN_ARGS: tuple[str, ...] = (
    "--model", "mini_xception", "--batch-size", "16", "--threads", "1", "--no-cache", "--device", "cpu",
)  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "trained_model: needs the trained shipped model (fails on the untrained placeholder by design)"
    )


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder from `emolens train --epochs 1` on the tiny csv: best.pt, last.pt, log.csv, reports."""
    pytest.importorskip("torch", reason="training needs torch (the train extra)")
    root = tmp_path_factory.mktemp("trained")
    data = write_fer_csv(root / "tiny.csv", fer_rows())
    out = root / "run"
    done = run_emolens(
        "train", "--data", data, "--out", out, "--epochs", "1", *TINY_TRAIN_ARGS,
        env={"XDG_CACHE_HOME": str(root / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def tiny_onnx(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's trained checkpoint exported through `emolens export`."""
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    done = run_emolens("export", trained_run / "best.pt", "--out", out)
    assert done.returncode == 0, done.stderr
    return out


# --- shared media and small synthetic images (runtime, API, CLI tests) -------------------------------


@pytest.fixture
def media() -> Path:
    """../shared/media: real photos and clips with faces, or a skip saying ../shared is absent."""
    return shared_path("media")


def read_video_frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    """Frames of a clip read straight with OpenCV (the tests of io/sources.py test the project's reader)."""
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    try:
        while limit is None or len(frames) < limit:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    assert frames, f"OpenCV read no frames from {path}"
    return frames


@pytest.fixture
def tiny_bgr() -> np.ndarray:
    """A 64x80 BGR uint8 image with a gradient, so that colour conversions are visible."""
    ramp = np.linspace(0, 255, 80, dtype=np.uint8)
    return np.stack([np.tile(ramp, (64, 1)), np.full((64, 80), 40, np.uint8), np.full((64, 80), 200, np.uint8)], -1)


def panel_pixels(image_bgr: np.ndarray) -> int:
    """Pixels of exactly the probability panels' bar-outline grey (`render.PANEL_OUTLINE_BGR`): a few hundred per
    panel on a losslessly stored picture, next to none on a photo or a labels-only picture."""
    from emolens.render import PANEL_OUTLINE_BGR

    return int((image_bgr == np.array(PANEL_OUTLINE_BGR, np.uint8)).all(axis=2).sum())
