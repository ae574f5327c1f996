"""A real `emolens serve` for the web benchmarks (bench_load, bench_web_video): started on a free port, ready
once /healthz answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

#: The CLI of the emolens that this Python imports (the checkout's src with PYTHONPATH=src).
EMOLENS = [sys.executable, "-c", "import sys; from emolens.cli import main; sys.exit(main())"]

_START_TIMEOUT_S = 180.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(serve_args: list[str], log: Path | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """`emolens serve --port <free> *serve_args`, once its /healthz answers 200.

    Args:
        serve_args: more flags for `serve` (e.g. ["--workers", "2"]).
        log: where the server's output goes; None discards it.

    Returns:
        The server's base URL and its process (the caller terminates it).
    """
    import httpx

    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost"}
    cmd = [*EMOLENS, "serve", "--port", str(port), *serve_args]
    with log.open("wb") if log is not None else open(os.devnull, "wb") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"

    def output() -> str:
        return "" if log is None else ":\n" + log.read_text(errors="replace")

    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise SystemExit(f"emolens serve exited with {server.returncode}{output()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return url, server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.terminate()
            raise SystemExit(f"emolens serve did not answer within {_START_TIMEOUT_S:g} s{output()}")
        time.sleep(0.5)
