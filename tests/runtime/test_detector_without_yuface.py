"""The CNN face detector needs no native wheel: in a subprocess where `yuface` and `threadpoolctl` cannot be
imported (as on Python 3.12+, macOS, Windows, ARM, where yuface has no wheel), `--detector auto` still runs the CNN,
from the ONNX file inside the package. scripts/test.sh's second pass runs the suite without yuface installed; these
run the real command and library with the packages blocked, in any environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import REPO, shared_path

BLOCK_NATIVE = """
import importlib.abc, sys
class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("yuface", "threadpoolctl"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Blocked())
"""


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )


def run_cli_without_yuface(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(BLOCK_NATIVE + "from emolens.cli import main\nsys.exit(main(sys.argv[1:]))", *args)


def test_version_says_auto_runs_the_onnx_cnn():
    done = run_cli_without_yuface("--version")
    assert done.returncode == 0, done.stderr
    assert "face detector (--detector auto): cnn (libfacedetection CNN on onnxruntime " in done.stdout


def test_analyze_runs_the_cnn_with_its_score_and_landmarks():
    photo = str(shared_path("media", "single_face.jpg"))
    for detector in ("auto", "cnn"):
        done = run_cli_without_yuface("analyze", "--json", "--detector", detector, photo)
        assert done.returncode == 0, done.stderr
        (face,) = json.loads(done.stdout)["faces"]
        assert 0.5 <= face["score"] <= 1.0  # the CNN ran: Haar has no score


def test_the_library_without_yuface():
    code = BLOCK_NATIVE + (
        "from emolens.runtime.detectors import make_detector, resolve_detector\n"
        "from emolens.runtime.detectors.cnn import CnnFaceDetector\n"
        "assert resolve_detector('auto') == 'cnn' and isinstance(make_detector('auto'), CnnFaceDetector)\n"
        "import numpy as np\n"
        "assert make_detector('auto').detect(np.zeros((240, 320, 3), np.uint8)) == []\n"
        "print('ok')\n"
    )
    done = run_python(code)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_importing_emolens_imports_neither_yuface_nor_onnx():
    code = (
        "import sys, emolens, emolens.api, emolens.runtime.detectors, emolens.runtime.detectors.cnn\n"
        "from emolens.runtime.detectors import make_detector\n"
        "make_detector('cnn')\n"
        "print('yuface' in sys.modules, 'threadpoolctl' in sys.modules, 'onnx' in sys.modules)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False"]
