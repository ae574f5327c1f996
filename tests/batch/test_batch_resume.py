"""A run killed with SIGKILL half-way, then rerun: every input's rows exactly once, none missing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
from batch_support import ENV, faces_table

from support import REPO, emolens_command

PHOTO_COPIES = 24


def test_sigkill_mid_run_then_rerun_loses_and_duplicates_nothing(
    archive: Path, local_run: Path, tmp_path: Path
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(archive / "clips" / "single_face.mp4", inputs / "clip.mp4")
    for n in range(PHOTO_COPIES):
        shutil.copy(archive / "photos" / "single_face.jpg", inputs / f"photo_{n:02d}.jpg")
    out = tmp_path / "out"
    command = [*emolens_command(), "batch", str(inputs), "--out", str(out), "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **ENV}
    # Its own session, so the kill takes the pool's worker processes too, as a kill of the whole job would.
    run = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ledger = out / "ledger.jsonl"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            if ledger.exists() and len(ledger.read_text().splitlines()) >= 3:
                break
            time.sleep(0.02)
        assert run.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    finished = len(ledger.read_text().splitlines())
    assert 3 <= finished < PHOTO_COPIES + 1, finished
    # What a reader sees after the kill: only whole inputs, each once.
    partial = faces_table(out)
    assert not partial.duplicated().any()

    rerun = subprocess.run([*command[:-1], "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"({finished} already done, 0 failed)" in rerun.stdout
    faces = faces_table(out)
    assert not faces.duplicated().any()
    sources = pd.read_parquet(out / "sources.parquet")
    assert len(sources) == PHOTO_COPIES + 1 and set(sources.status) == {"ok"}
    assert not (out / "faces" / "_inflight").exists()

    reference = faces_table(local_run)
    columns = [c for c in faces.columns if c != "source"]
    expected_photo = reference[reference.source.str.endswith("photos/single_face.jpg")][columns]
    expected_clip = reference[reference.source.str.endswith("clips/single_face.mp4")][columns]
    for source, rows in faces.groupby("source"):
        expected = expected_clip if source.endswith("clip.mp4") else expected_photo
        assert rows[columns].reset_index(drop=True).equals(expected.reset_index(drop=True)), source
    assert faces.source.nunique() == PHOTO_COPIES + 1
