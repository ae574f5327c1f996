"""The device recipe: in one command of at most `budget_s`, teachers, distilled students, the two shipped models.

Steps, each one checkpointed in `workdir` so that a second call continues a first that ran out of time:

1. unpack the carried pack (`emolens_recipe.pack`: Training and PublicTest only) into raw arrays;
2. plan: measure each network's seconds per epoch through `train` itself, fit the epochs into the budget
   (`emolens_recipe.budget`), and keep that plan, so that a continued run keeps its learning-rate schedules;
3. train the teachers, several at once, then the students distilled from all of them;
4. choose on PublicTest only: `fast` = the student with the higher accuracy on each face and its mirror,
   `accurate` = all students with the mirror view; fit each one's temperature on PublicTest, export it in int8;
5. score both exports, and the shipped models, on PublicTest, and write models, metrics and a state bundle to
   `out_dir` (at most 8 files of at most 16 MiB: what the device machine gives back).

PrivateTest is not in the pack: it is scored on the development machine, after the choice, as the model card
does for every shipped model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolens.evaluate import as_logits, classification_metrics, fit_temperature, predict_probs
from emolens.nn.export import export_onnx, quantize_int8
from emolens.nn.train import resolve_device
from emolens.preprocess import preprocess_faces
from emolens.runtime.registry import SHIPPED_MODELS, model_path

from .budget import GpuAssumptions, Job, Plan, measure_s_per_epoch, network_cost
from .budget import fit_epochs as fit_stage_epochs
from .bundle import restore_bundle, write_bundle
from .stages import (
    RecipeConfig,
    load_faces,
    run_stage,
    student_jobs,
    teacher_jobs,
    unpack_faces,
    untrained_checkpoints,
)

log = logging.getLogger(__name__)
#: What the device machine gives back: files of at most 16 MiB; the bundle keeps a little under that.
BUNDLE_LIMIT_BYTES = 15 * 2**20


@dataclass(frozen=True)
class RecipeResult:
    """What one call did: whether it finished, its plan, and the files it wrote."""

    complete: bool  # False: the budget ran out; run the same command again to continue
    plan: Plan
    metrics_path: Path | None  # None for a plan-only call
    models: dict[str, Path]  # "fast"/"accurate" -> the int8 .onnx written to out_dir


def make_plan(cfg: RecipeConfig, workdir: Path, faces: Path, device: str, estimate_gpu: bool, elapsed_s: float) -> Plan:
    """Measure every network on `device` and fit the wanted epochs into the budget.

    Args:
        cfg: the recipe.
        workdir: where the measuring runs' temporary files go.
        faces: the file `unpack_faces` wrote.
        device: auto, cpu or cuda.
        estimate_gpu: the measurements come from a CPU and the plan is for a GPU run (see `nn.budget`).
        elapsed_s: seconds this call has spent before planning; a real run reserves what it actually spent.

    Returns:
        The plan.
    """
    train_set, val_set = load_faces(faces, cfg.labels)
    gpu = GpuAssumptions()
    probe_dir = workdir / "probe"
    probe_dir.mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = teacher_jobs(cfg, cfg.teacher_epochs, device)
    jobs += student_jobs(cfg, cfg.student_epochs, device, untrained_checkpoints(cfg, probe_dir))
    costs = []
    measured: dict[str, float] = {}  # networks that differ in their seed alone cost the same: measured once
    t0 = time.monotonic()
    for job in jobs:
        key = json.dumps([job.config.model, job.config.model_kwargs, job.config.teachers], sort_keys=True)
        if key not in measured:
            measured[key] = measure_s_per_epoch(job, train_set, val_set, cfg.probe_batches, probe_dir)
            log.info("%s: %.2f s per epoch measured on %s", job.name, measured[key], device)
        costs.append(network_cost(job, measured[key], len(train_set), gpu, estimate_gpu))
    startup_s = cfg.startup_reserve_s if estimate_gpu else elapsed_s + time.monotonic() - t0
    reserved = startup_s + cfg.export_reserve_s + cfg.margin * cfg.budget_s
    teacher_epochs, student_epochs = cfg.teacher_epochs, cfg.student_epochs
    if cfg.fit_epochs:
        teacher_epochs, student_epochs = fit_stage_epochs(
            costs, cfg.teacher_epochs, cfg.student_epochs, cfg.budget_s - reserved
        )
    basis = f"measured on {costs[0].measured_on}, GPU seconds estimated" if estimate_gpu else f"measured on {device}"
    shutil.rmtree(probe_dir, ignore_errors=True)
    return Plan(
        basis, estimate_gpu, cfg.budget_s, reserved, costs, teacher_epochs, student_epochs,
        cfg.teacher_epochs, cfg.student_epochs, gpu,
    )  # fmt: skip


def run_recipe(
    pack: Path,
    workdir: Path,
    out_dir: Path,
    cfg: RecipeConfig,
    device: str = "auto",
    plan_only: bool = False,
    state: Path | None = None,
) -> RecipeResult:
    """Run (or continue) the recipe within `cfg.budget_s`; see the module docstring for the steps.

    Args:
        pack: the file `emolens_recipe.pack.pack_fer` wrote.
        workdir: where runs, plan and exports live between calls (kept on a warm device machine).
        out_dir: what comes back: emolens-fast.onnx, emolens-accurate.onnx, metrics.json, state.tar.
        cfg: the networks, epochs wanted and time budget; the plan scales the epochs down to fit the budget.
        device: auto, cpu or cuda (as `emolens train --device`).
        plan_only: measure and print the plan, train nothing; on a CPU the plan is for a GPU run.
        state: a state.tar from an earlier call (on a fresh machine), unpacked into `workdir` first.

    Returns:
        Whether the recipe finished, its plan, metrics.json and the exported models.

    Raises:
        RecipeError: a training job failed.
        DataFormatError: the pack is unreadable.
    """
    t_start = time.monotonic()
    deadline = t_start + cfg.budget_s
    workdir.mkdir(parents=True, exist_ok=True)
    if state is not None:
        log.info("restored from %s: %s", state, ", ".join(restore_bundle(state, workdir)) or "nothing new")
    faces = unpack_faces(pack, workdir / "faces.npz")
    device_type = resolve_device(device).type
    plan_path = workdir / "plan.json"
    if plan_only or not plan_path.exists():
        plan = make_plan(cfg, workdir, faces, device, plan_only and device_type == "cpu", time.monotonic() - t_start)
        if not plan_only:
            plan_path.write_text(json.dumps(plan.to_dict(), indent=2))
    else:
        plan = Plan.from_dict(json.loads(plan_path.read_text()))
        log.info("continuing under the plan of the first call (%s)", plan_path)
    log.info(
        "plan: %d teacher and %d student epochs, %.0f s of training predicted (%s)",
        plan.teacher_epochs, plan.student_epochs, plan.training_s, plan.basis,
    )  # fmt: skip
    if plan_only:
        return RecipeResult(True, plan, None, {})
    out_dir.mkdir(parents=True, exist_ok=True)

    threads = max(1, (os.cpu_count() or 1) // max(1, cfg.parallel))
    train_deadline = deadline - cfg.export_reserve_s
    teachers = teacher_jobs(cfg, plan.teacher_epochs, device)
    names = [j.name for j in teachers]
    complete = run_stage(teachers, workdir, faces, cfg.labels, cfg.parallel, train_deadline, threads)
    students: list[Job] = []
    if complete:
        teacher_best = [workdir / j.name / "best.pt" for j in teachers]
        students = student_jobs(cfg, plan.student_epochs, device, teacher_best)
        names += [j.name for j in students]
        complete = run_stage(students, workdir, faces, cfg.labels, cfg.parallel, train_deadline, threads)
    models: dict[str, Path] = {}
    metrics: dict[str, Any] = {"complete": complete, "config": cfg.to_dict(), "plan": plan.to_dict()}
    if complete:
        metrics["selection"], models, metrics["models"] = _ship(cfg, workdir, faces, students, out_dir)
    metrics["runs"] = {name: _run_summary(workdir / name) for name in names}
    metrics["bundle"] = write_bundle(workdir, names, out_dir / "state.tar", BUNDLE_LIMIT_BYTES)
    metrics["seconds"] = round(time.monotonic() - t_start, 1)
    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2))
    if not complete:
        log.warning("out of time: run the same command again to continue (a warm machine keeps %s)", workdir)
    return RecipeResult(complete, plan, metrics_path, models)


def _ship(
    cfg: RecipeConfig, workdir: Path, faces: Path, students: list[Job], out_dir: Path
) -> tuple[dict[str, Any], dict[str, Path], dict[str, Any]]:
    """Choose on PublicTest, fit temperatures there, export int8 and score: (selection, models, their metrics)."""
    train_set, val_set = load_faces(faces, "fer")
    threads = os.cpu_count() or 1
    checkpoints = {j.name: workdir / j.name / "best.pt" for j in students}
    flip_acc = {
        name: classification_metrics(
            val_set.labels, predict_probs(path, val_set.images, tta="flip", threads=threads)
        ).accuracy
        for name, path in checkpoints.items()
    }
    best = max(flip_acc, key=lambda name: flip_acc[name])
    selection = {"PublicTest_acc_with_flip": flip_acc, "fast": best, "accurate": sorted(checkpoints)}
    members = {"fast": [checkpoints[best]], "accurate": [checkpoints[n] for n in sorted(checkpoints)]}
    pick = np.sort(np.random.default_rng(0).permutation(len(train_set))[: cfg.calibration_faces])
    calibration, check = preprocess_faces(train_set.images[pick]), preprocess_faces(val_set.images)
    models, results = {}, {}
    export_dir = workdir / "export"
    for name in SHIPPED_MODELS:
        t1 = export_dir / f"emolens-{name}-T1.onnx"
        export_onnx(members[name], t1, tta="flip")
        temperature = fit_temperature(as_logits(predict_probs(t1, val_set.images, threads=threads)), val_set.labels)
        float_path = export_dir / f"emolens-{name}-float32.onnx"
        export_onnx(members[name], float_path, temperature=temperature, tta="flip")
        int8 = quantize_int8(float_path, out_dir / f"emolens-{name}.onnx", calibration, check)
        scores = classification_metrics(val_set.labels, predict_probs(int8.path, val_set.images, threads=threads))
        shipped = classification_metrics(
            val_set.labels, predict_probs(model_path(name), val_set.images, threads=threads)
        )
        models[name] = int8.path
        results[name] = {
            "members": [str(p) for p in members[name]],
            "temperature": round(temperature, 4),
            "size_bytes": int8.size_bytes,
            "int8_top1_agreement": int8.top1_agreement,
            "PublicTest": scores.to_dict(),
            "shipped_PublicTest_acc": shipped.accuracy,
            "beats_shipped_on_PublicTest": scores.accuracy > shipped.accuracy,
        }
        log.info(
            "%s: PublicTest %.2f%% (shipped %.2f%%), temperature %.3f, %.2f MB int8",
            name, 100 * scores.accuracy, 100 * shipped.accuracy, temperature, int8.size_bytes / 1e6,
        )  # fmt: skip
    return selection, models, results


def _run_summary(run: Path) -> dict[str, Any]:
    """A job's state for metrics.json: done or not, and the epochs it logged."""
    done = (run / "done").exists()
    summary: dict[str, Any] = {"done": done, **(json.loads((run / "done").read_text()) if done else {})}
    if (run / "train.json").exists():
        summary["best_PublicTest_acc"] = json.loads((run / "train.json").read_text())["best_PublicTest_acc"]
    if (run / "log.csv").exists():
        rows = (run / "log.csv").read_text().splitlines()
        summary["log"] = rows
    return summary
