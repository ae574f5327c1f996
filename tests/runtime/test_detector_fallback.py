"""`--detector auto` where the CNN's package is absent: a subprocess whose imports of yuface fail, as on a platform
with no yuface wheel (macOS, Windows, Python 3.12+). These run the real command and library with the package blocked,
in any environment; scripts/test.sh (CI) also runs the whole suite a second time with yuface uninstalled."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import REPO, shared_path

BLOCK_YUFACE = """
import importlib.abc, sys
class _NoYuface(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "yuface":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoYuface())
"""


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )


def run_cli_without_yuface(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(BLOCK_YUFACE + "from emolens.cli import main\nsys.exit(main(sys.argv[1:]))", *args)


def test_version_says_auto_falls_back_to_haar():
    done = run_cli_without_yuface("--version")
    assert done.returncode == 0, done.stderr
    assert "face detector (--detector auto): haar (OpenCV 4." in done.stdout


def test_version_names_the_detector_auto_runs_here():
    from emolens.runtime.detectors import resolve_detector

    done = run_python("import sys\nfrom emolens.cli import main\nsys.exit(main(['--version']))")
    assert done.returncode == 0, done.stderr
    assert f"face detector (--detector auto): {resolve_detector('auto')} (" in done.stdout


def test_analyze_runs_on_haar_and_cnn_is_refused_clearly():
    photo = str(shared_path("media", "single_face.jpg"))
    done = run_cli_without_yuface("analyze", "--json", photo)
    assert done.returncode == 0, done.stderr
    (face,) = json.loads(done.stdout)["faces"]
    assert face["score"] is None  # Haar ran: it has no confidence
    refused = run_cli_without_yuface("analyze", "--detector", "cnn", photo)
    assert refused.returncode == 2
    assert "yuface" in refused.stderr and "--detector haar" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_library_without_yuface():
    code = BLOCK_YUFACE + (
        "from emolens.runtime.detectors import cnn_available, make_detector, resolve_detector\n"
        "assert not cnn_available() and resolve_detector('auto') == 'haar'\n"
        "assert make_detector('auto').name == 'haar'\n"
        "print('ok')\n"
    )
    done = run_python(code)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_importing_emolens_does_not_import_yuface():
    code = (
        "import sys, emolens, emolens.api, emolens.runtime.detectors, emolens.runtime.detectors.cnn\n"
        "print('yuface' in sys.modules, 'threadpoolctl' in sys.modules)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
