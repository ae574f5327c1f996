"""schemathesis against the real server's /openapi.json, every check on, bounded examples and a fixed seed:
the schema says what the routes refuse, and the routes answer only what the schema says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("schemathesis", reason="the schema fuzz needs schemathesis (dev extra)")
CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_passes_every_check(server: Any, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"]
    cmd += [f"{server.url}/openapi.json", "--checks", "all", "--max-examples", "30", "--seed", "18"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 selected" in done.stdout and " passed" in done.stdout
    assert server.process.poll() is None
