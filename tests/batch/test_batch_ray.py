"""The Ray engine for real: a local cluster it starts itself, and a cluster started with `ray start --head` on
127.0.0.1 and joined by address, as a user would. Both must give the local engine's rows exactly."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from batch_support import ENV, faces_table

from support import run_emolens

ray = pytest.importorskip("ray", reason="the ray engine needs the 'scale' extra (pip install '.[scale]')")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    address: str
    #: A folder this test process sees and the cluster's workers do not (None where mounts are not allowed).
    hidden_from_workers: Path | None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """`ray start --head --block` on 127.0.0.1 with free ports (other Ray clusters may share this machine),
    stopped by signalling its own process group, never with `ray stop`, which would stop every cluster here.

    Where this user may mount (root, as in CI), the head runs in a mount namespace with an empty file system
    over one folder, so its workers play a node without the shared file system for that folder."""
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.is_file():
        pytest.skip(f"needs the ray command beside {sys.executable}")
    root = tmp_path_factory.mktemp("ray")
    hidden = root / "driver-only"
    hidden.mkdir()
    port = free_port()
    ports = {
        "--port": port,
        "--ray-client-server-port": free_port(),
        "--node-manager-port": free_port(),
        "--object-manager-port": free_port(),
        "--metrics-export-port": free_port(),
        "--dashboard-agent-listen-port": free_port(),
        "--dashboard-agent-grpc-port": free_port(),
        "--runtime-env-agent-port": free_port(),
    }
    command = [str(ray_cli), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "2",
               "--include-dashboard", "false", *[str(x) for item in ports.items() for x in item]]  # fmt: skip
    can_mount = (
        shutil.which("unshare") is not None
        and subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "none", str(hidden)],
            capture_output=True,
        ).returncode
        == 0
    )
    if can_mount:
        script = f'mount -t tmpfs none "{hidden}" && exec "$@"'
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command]
    log = root / "head.log"
    with log.open("w") as sink:
        head = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **ENV})  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text() and time.monotonic() < deadline:
            assert head.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        assert "Ray runtime started" in log.read_text(), log.read_text()[-3000:]
        yield Cluster(f"127.0.0.1:{port}", hidden if can_mount else None)
    finally:
        # SIGTERM lets Ray clean up; it drains for up to 30 s, which an idle test cluster need not wait out.
        os.killpg(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def assert_same_results(run: Path, reference: Path) -> None:
    pd.testing.assert_frame_equal(faces_table(run), faces_table(reference))
    ignore = ["wall_s"]
    ours = pd.read_parquet(run / "sources.parquet").drop(columns=ignore)
    theirs = pd.read_parquet(reference / "sources.parquet").drop(columns=ignore)
    pd.testing.assert_frame_equal(ours, theirs)


def test_joined_cluster_gives_the_local_engines_rows(
    cluster: Cluster, archive: Path, local_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run_emolens("batch", archive, "--out", out, "--engine", "ray", "--ray-address", cluster.address, env=ENV)
    assert done.returncode == 0, done.stderr
    assert_same_results(out, local_run)


def test_workers_that_cannot_see_the_inputs_stop_the_run_early_and_clearly(
    cluster: Cluster, archive: Path, tmp_path: Path
) -> None:
    if cluster.hidden_from_workers is None:
        pytest.skip("needs unshare and mount permission to hide a folder from the cluster's workers")
    clip = Path(shutil.copy(archive / "clips" / "single_face.mp4", cluster.hidden_from_workers / "clip.mp4"))
    out = tmp_path / "out"
    done = run_emolens("batch", clip, "--out", out, "--engine", "ray", "--ray-address", cluster.address, env=ENV)
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("emolens: error: ") and str(clip) in message
    assert "not readable on worker host" in message and "file system that every Ray node shares" in message
    assert not list((out / "faces").glob("*.parquet"))


def test_local_ray_cluster_started_by_the_run(archive: Path, local_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_emolens("batch", archive, "--out", out, "--engine", "ray", "--workers", "2", env=ENV)
    assert done.returncode == 0, done.stderr
    assert_same_results(out, local_run)


def test_the_local_cluster_a_run_starts_is_on_the_loopback_address(archive: Path, tmp_path: Path) -> None:
    # Not on the address of the interface the machine's default route uses: a local run must not depend on the
    # network. Ray keeps its logs under RAY_TMPDIR (short: its socket paths must fit in 107 bytes).
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp") as ray_tmp:
        env = {**ENV, "RAY_TMPDIR": ray_tmp}
        done = run_emolens("batch", archive / "obama.jpg", "--out", tmp_path / "out", "--engine", "ray", env=env)
        assert done.returncode == 0, done.stderr
        raylet_log = next(Path(ray_tmp).glob("ray/session_*/logs/raylet.out")).read_text()
    addresses = set(re.findall(r"node_manager address: ([0-9.]+):", raylet_log))
    assert addresses == {"127.0.0.1"}, raylet_log[-2000:]
