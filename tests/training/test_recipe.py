# ruff: noqa: E402  (imports that need the train extra follow pytest.importorskip)
"""The GPU recipe (scripts/train-on-device.sh) at toy scale on the CPU, so that it cannot rot while no GPU is lent:
the same script and code as on the device, with tiny networks, a few hundred synthetic faces and two epochs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the recipe needs the 'train' extra (torch, onnx)")
pytest.importorskip("torch", reason="the recipe needs the 'train' extra (torch, onnx)")


from emolens.data.ferplus import VOTE_COLUMNS
from emolens.nn.train import TrainConfig
from emolens_recipe.budget import GpuAssumptions, Job, NetworkCost, Plan, fit_epochs, format_plan, network_cost
from emolens_recipe.bundle import restore_bundle, write_bundle
from emolens_recipe.stages import (
    NetSpec,
    RecipeConfig,
    run_stage,
    teacher_jobs,
    unpack_faces,
)
from support import REPO, fer_rows, write_fer_csv

SPLITS = (("Training", 210), ("PublicTest", 42), ("PrivateTest", 14))
TINY = {"model": "resnet_s", "model_kwargs": {"width": 4}}
TOY_CONFIG = {
    "teachers": [{**TINY, "seed": 0}, {"model": "resnet_s", "model_kwargs": {"width": 6, "blocks": [1, 1]}}],
    "students": [{**TINY, "seed": 0}, {**TINY, "seed": 1}],
    "teacher_epochs": 2, "student_epochs": 2, "batch_size": 64, "parallel": 2, "probe_batches": 1,
    "calibration_faces": 64, "budget_s": 500,
}  # fmt: skip


def _write_votes(path: Path, rows: int, seed: int = 0) -> Path:
    """A FER+ votes file aligned with `rows` csv rows: 10 votes per face over the 7 classes."""
    rng = np.random.default_rng(seed)
    lines = ["Usage,Image name," + ",".join(VOTE_COLUMNS) + ",contempt,unknown,NF"]
    lines += [
        f"Training,{i}.png," + ",".join(map(str, rng.multinomial(10, [1 / 7] * 7))) + ",0,0,0" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "train-on-device.sh"), *args],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env={**os.environ, "PY": sys.executable, "OMP_NUM_THREADS": "1", **env},
    )  # fmt: skip


@pytest.fixture(scope="module")
def toy_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("toy")
    csv = write_fer_csv(root / "toy.csv", fer_rows(SPLITS))
    votes = _write_votes(root / "votes.csv", sum(n for _, n in SPLITS))
    pack = root / "pack.npz"
    done = _script("pack", env={"DATA": str(csv), "FERPLUS": str(votes), "PACK": str(pack)})
    assert done.returncode == 0, done.stderr
    assert "252 faces with FER+ votes" in done.stdout  # Training + PublicTest; PrivateTest stays behind
    return pack


def test_toy_recipe_runs_end_to_end_through_the_script(toy_pack: Path, tmp_path: Path) -> None:
    config = tmp_path / "toy.json"
    config.write_text(json.dumps(TOY_CONFIG))
    out, work = tmp_path / "out", tmp_path / "work"
    args = ("run", "--config", str(config), "--device", "cpu", "--workdir", str(work), "--out", str(out))
    done = _script(*args, env={"PACK": str(toy_pack)})
    assert done.returncode == 0, done.stderr[-3000:]

    # What the device machine gives back: at most 8 files of at most 16 MiB, no folders.
    files = sorted(p.name for p in out.iterdir())
    assert files == ["emolens-accurate.onnx", "emolens-fast.onnx", "metrics.json", "recipe.log", "state.tar"]
    assert all((out / f).stat().st_size < 16 * 2**20 for f in files)

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["complete"] is True
    assert (metrics["plan"]["teacher_epochs"], metrics["plan"]["student_epochs"]) == (2, 2)  # the budget is ample
    assert len(metrics["runs"]) == 4
    for name, run in metrics["runs"].items():
        assert run["done"] and run["epochs_run"] == 2, name
        assert [row.split(",")[0] for row in run["log"][1:]] == ["1", "2"]
    students = sorted(n for n in metrics["runs"] if n.startswith("student-"))
    assert metrics["selection"]["fast"] in students and metrics["selection"]["accurate"] == students
    for name in ("fast", "accurate"):
        model = metrics["models"][name]
        assert model["PublicTest"]["n"] == 42  # scored on PublicTest, the only test split the pack holds
        assert 0.05 <= model["temperature"] <= 20.0
        assert len(model["members"]) == (1 if name == "fast" else 2)
        meta = {p.key: p.value for p in onnx.load(str(out / f"emolens-{name}.onnx")).metadata_props}
        assert meta["emolens.quantization"] == "int8-static-qdq" and meta["emolens.tta"] == "flip"
        assert float(meta["emolens.temperature"]) == pytest.approx(model["temperature"], rel=1e-3)

    with tarfile.open(out / "state.tar") as tar:
        names = set(tar.getnames())
    assert "plan.json" in names and all(f"{s}/best.pt" in names for s in students)
    assert "the GPU seconds are an estimate" not in done.stdout.lower()  # measured on the device it ran on
    assert "teachers: 2 epochs (of 2 wanted)" in done.stdout


def test_plan_only_on_a_cpu_prints_the_gpu_plan_and_trains_nothing(toy_pack: Path, tmp_path: Path) -> None:
    config = tmp_path / "toy.json"
    config.write_text(json.dumps(TOY_CONFIG))
    work = tmp_path / "work"
    done = _script("plan", "--config", str(config), "--workdir", str(work), env={"PACK": str(toy_pack)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "plan (measured on cpu, GPU seconds estimated); budget 500 s" in done.stdout
    assert "GPU seconds are an estimate: H100/H200 at 790 TFLOP/s bf16 x 10% assumed utilisation" in done.stdout
    rows = [
        line.split(" | ")
        for line in done.stdout.splitlines()
        if line.startswith("| teacher-") or line.startswith("| student-")
    ]
    assert len(rows) == 4
    for row in rows:  # measured on this CPU, planned from the GPU estimate: much less
        measured_s, planned_s = float(row[3]), float(row[7].rstrip(" |"))
        assert 0 < planned_s < measured_s
    assert sorted(p.name for p in work.iterdir()) == ["faces.npz"]  # nothing trained, no plan kept


def test_a_stage_stopped_at_its_deadline_continues_in_the_next_call(toy_pack: Path, tmp_path: Path) -> None:
    faces = unpack_faces(toy_pack, tmp_path / "faces.npz")
    cfg = RecipeConfig.from_dict({**TOY_CONFIG, "teachers": [TOY_CONFIG["teachers"][0]]})
    jobs = teacher_jobs(cfg, 2, "cpu")
    t0 = time.monotonic()
    assert run_stage(jobs, tmp_path, faces, "fer", 1, t0 + 1.0, 1) is False  # stopped while it starts up
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / jobs[0].name / "done").exists()
    assert run_stage(jobs, tmp_path, faces, "fer", 1, time.monotonic() + 300, 1) is True
    rows = (tmp_path / jobs[0].name / "log.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["1", "2"]
    assert run_stage(jobs, tmp_path, faces, "fer", 1, time.monotonic() - 1, 1) is True  # done: nothing to run


def test_bundle_keeps_what_fits_and_restore_keeps_newer_files(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "a").mkdir(parents=True)
    (work / "plan.json").write_text("{}")
    (work / "a" / "log.csv").write_text("epoch\n1\n")
    (work / "a" / "best.pt").write_bytes(b"x" * 5000)
    (work / "a" / "last.pt").write_bytes(b"y" * 50_000)  # the job is not done: last.pt is worth sending too
    included = write_bundle(work, ["a"], tmp_path / "state.tar", limit_bytes=20_000)
    assert included == ["plan.json", "a/log.csv", "a/best.pt"]  # last.pt would pass the limit
    fresh = tmp_path / "fresh"
    (fresh / "a").mkdir(parents=True)
    (fresh / "a" / "log.csv").write_text("epoch\n1\n2\n")
    assert restore_bundle(tmp_path / "state.tar", fresh) == ["plan.json", "a/best.pt"]
    assert (fresh / "a" / "log.csv").read_text() == "epoch\n1\n2\n"
    assert (fresh / "a" / "best.pt").stat().st_size == 5000


def _cost(name: str, stage: str, planned_s: float) -> NetworkCost:
    return NetworkCost(name, stage, "cpu", 100 * planned_s, 113, 1000.0, 200, planned_s)


def test_fit_epochs_scales_both_stages_alike_until_they_fit() -> None:
    costs = [_cost("t1", "teachers", 1.0), _cost("t2", "teachers", 2.0), _cost("s", "students", 1.5)]
    assert fit_epochs(costs, 300, 200, 10_000) == (300, 200)  # fits: nothing changes
    # 300 x 3 s + 200 x 1.5 s = 1200 s wanted, 400 s available: a third of each.
    assert fit_epochs(costs, 300, 200, 400) == (100, 66)
    assert fit_epochs(costs, 300, 200, 1) == (1, 1)


def test_plan_from_a_cpu_states_its_estimate_and_round_trips() -> None:
    costs = [_cost("t", "teachers", 2.0), _cost("s", "students", 1.0)]
    plan = Plan("measured on cpu, GPU seconds estimated", True, 540, 174, costs, 50, 40, 300, 200, GpuAssumptions())
    text = format_plan(plan)
    assert "GPU seconds are an estimate" in text and "10% assumed utilisation" in text
    assert "teachers: 50 epochs (of 300 wanted) x 2.00 s = 100 s" in text
    assert "predicted: 140 s of training + 174 s reserved = 314 s of 540 s" in text
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_gpu_estimate_follows_the_work_of_each_network() -> None:
    gpu = GpuAssumptions()
    small = Job("s", "teachers", TrainConfig(model="resnet_s", device="cpu", batch_size=256))
    wide = Job("w", "teachers", TrainConfig(model="resnet_s", model_kwargs={"width": 64}, device="cpu", batch_size=256))
    a = network_cost(small, 100.0, 28709, gpu, estimate_gpu=True)
    b = network_cost(wide, 100.0, 28709, gpu, estimate_gpu=True)
    # resnet_s: about 0.24 GFLOP per face forward, three times that to train, on 28,709 faces.
    assert 15_000 < a.train_gflop_per_epoch < 25_000
    assert 3.5 < b.train_gflop_per_epoch / a.train_gflop_per_epoch < 4.5  # twice the width: four times the work
    assert a.planned_s_per_epoch < b.planned_s_per_epoch and a.scale_factor == 100.0 / a.planned_s_per_epoch
    assert network_cost(small, 100.0, 28709, gpu, estimate_gpu=False).planned_s_per_epoch == 100.0


def test_recipe_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown recipe settings: epochs"):
        RecipeConfig.from_dict({"epochs": 3})
    with pytest.raises(ValueError, match="label source"):
        RecipeConfig(labels="ferplus-majority")
    assert NetSpec("resnet_s", {"width": 64, "blocks": [2, 2, 2]}, 1).name == "resnet_s-width64-blocks2x2x2-seed1"
