"""A real `emolens serve` on a free loopback port for the whole session, and the shared media it is fed."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO.parent / "shared" / "media"
#: Small on purpose, so the oversize tests need only a few megabytes; every shared media file fits under it.
MAX_UPLOAD_MB = 2
_START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Server:
    url: str
    max_upload_mb: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def media(name: str) -> Path:
    path = MEDIA / name
    if not path.exists():
        pytest.skip(f"needs {path} (the shared media folder beside the repository)")
    return path


@pytest.fixture(scope="session")
def media_file() -> Callable[[str], Path]:
    """`media_file("x.jpg")`: the shared media file's path, or the test skips with a reason."""
    return media


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def start_server(
    log_dir: Path,
    extra_args: list[str] | None = None,
    max_upload_mb: int = MAX_UPLOAD_MB,
    global_args: list[str] | None = None,
) -> Iterator[Server]:
    """A real `emolens serve` subprocess on a free loopback port, stopped (SIGTERM) on exit; `global_args` go
    before the command (["-v"]: debug messages and the HTTP access log in the server's log)."""
    for module in ("fastapi", "uvicorn", "gradio", "multipart", "httpx"):
        pytest.importorskip(module, reason=f"the web tests need the 'web' extra ({module})")
    import httpx

    port = _free_port()
    log_path = log_dir / "serve.log"
    cmd = [sys.executable, "-c", "import sys; from emolens.cli import main; sys.exit(main())"]
    cmd += [*(global_args or []), "serve", "--port", str(port), "--workers", "2", "--max-upload-mb", str(max_upload_mb)]
    cmd += extra_args or []
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    server = Server(f"http://127.0.0.1:{port}", max_upload_mb, process, log_path)
    deadline = time.monotonic() + _START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"emolens serve exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"emolens serve did not answer /healthz in {_START_TIMEOUT_S:.0f} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="session")
def server_factory() -> Callable[..., contextlib.AbstractContextManager[Server]]:
    """`with server_factory(log_dir, ["--flag", "value"]) as server:` a server of its own, with other limits."""
    return start_server
