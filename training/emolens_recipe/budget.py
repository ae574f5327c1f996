"""The time budget of a training recipe, computed before it runs: seconds per epoch, and the epochs that fit.

Each network's seconds per epoch are *measured*: `train` itself runs two short epochs on a slice of the data,
on whatever device is at hand, and the second epoch's time is scaled to the full Training split. On a GPU that
is the plan. On a CPU (no GPU lent) the GPU's time is an *estimate*, derived from the work and stated rates:

    gpu_s_per_epoch = steps x (train FLOPs per step / (peak x utilisation) + kernels per step x launch_s)

with `GpuAssumptions` below; the ratio of the CPU's measured time to that estimate is the scale factor printed
beside each network. Several networks share one GPU in a stage, and the plan credits no overlap between them:
a stage takes the sum of its networks' times.
"""

from __future__ import annotations

import csv
import math
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from emolens.data.dataset import FaceDataset
from emolens.nn.models import create_model
from emolens.nn.train import TrainConfig, resolve_device, train


@dataclass(frozen=True)
class GpuAssumptions:
    """What the CPU-side estimate assumes of the GPU; every number is stated, none is measured here."""

    name: str = "H100/H200"
    #: bf16 dense matrix products as measured on this workplace's H100 and H200 (8192^3, 769-798 TFLOP/s).
    peak_flops: float = 790e12
    #: Share of that peak a 48x48 convnet at batch 256 reaches: its convolutions are small, and batch norm,
    #: ReLU and the augmentation are memory-bound. An assumption, not a reading; the device run measures.
    utilisation: float = 0.10
    #: Cost of one kernel launch (and of the per-step host work it stands for); eager PyTorch, no CUDA graphs.
    launch_s: float = 10e-6


@dataclass(frozen=True)
class Job:
    """One training run of a recipe: its name (its folder), its stage, and its full configuration."""

    name: str
    stage: str  # "teachers" or "students"
    config: TrainConfig


@dataclass(frozen=True)
class NetworkCost:
    """One network's seconds per epoch: as measured, and as planned for the run's device."""

    name: str
    stage: str
    measured_on: str  # the device the seconds were measured on
    measured_s_per_epoch: float
    steps_per_epoch: int
    train_gflop_per_epoch: float  # forward and backward of the network, plus its teachers' forward passes
    kernels_per_step: int
    planned_s_per_epoch: float  # the measured seconds on a GPU; the estimate from a CPU

    @property
    def scale_factor(self) -> float:
        """How many times faster the run's device is predicted to be than the one that measured."""
        return self.measured_s_per_epoch / self.planned_s_per_epoch


@dataclass(frozen=True)
class Plan:
    """Epochs per stage that fit `budget_s`, and the seconds predicted for each part."""

    basis: str  # how the seconds per epoch were obtained, in words
    estimated: bool  # True: the planned seconds are the GPU estimate from CPU measurements
    budget_s: float  # wall time the whole command may take
    reserved_s: float  # start-up, measuring, export and evaluation, the safety margin
    networks: list[NetworkCost]
    teacher_epochs: int
    student_epochs: int
    desired_teacher_epochs: int
    desired_student_epochs: int
    gpu: GpuAssumptions = field(default_factory=GpuAssumptions)

    def stage_s_per_epoch(self, stage: str) -> float:
        """Seconds one epoch of every network of a stage takes, one after another.

        Args:
            stage: "teachers" or "students".

        Returns:
            The sum of the stage's planned seconds per epoch.
        """
        return sum(n.planned_s_per_epoch for n in self.networks if n.stage == stage)

    @property
    def training_s(self) -> float:
        """Seconds of training the plan predicts, both stages."""
        return self.teacher_epochs * self.stage_s_per_epoch("teachers") + self.student_epochs * self.stage_s_per_epoch(
            "students"
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan for plan.json and metrics.json.

        Returns:
            JSON-ready values.
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Plan:
        """The plan `to_dict` wrote.

        Args:
            raw: its values.

        Returns:
            The plan.
        """
        raw = dict(raw)
        raw["networks"] = [NetworkCost(**n) for n in raw["networks"]]
        raw["gpu"] = GpuAssumptions(**raw["gpu"])
        return cls(**raw)


def train_flops_per_sample(cfg: TrainConfig) -> float:
    """FLOPs of one training sample: the network's forward and backward, and each teacher's forward (counted
    on the meta device: shapes only, nothing computed).

    Args:
        cfg: the run; its teachers' checkpoints are read for their architectures.

    Returns:
        FLOPs per face.
    """
    with torch.device("meta"):
        x = torch.zeros(2, 1, 48, 48)
        model = create_model(cfg.model, **cfg.model_kwargs).train()
        teachers = [create_model(name, **kwargs).eval() for name, kwargs in _teacher_specs(cfg)]
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), torch.zeros(2, dtype=torch.long, device="meta")).backward()
        with torch.no_grad():
            for teacher in teachers:
                teacher(x)
    return counter.get_total_flops() / len(x)


def kernels_per_step(cfg: TrainConfig) -> int:
    """About how many kernels one step launches: three per layer for the network (forward, two backward), one
    per teacher layer, and about 60 for augmentation, loss and the optimiser.

    Args:
        cfg: the run.

    Returns:
        Kernel launches per training step.
    """
    leaves = sum(1 for m in create_model(cfg.model, **cfg.model_kwargs).modules() if not list(m.children()))
    teacher_leaves = sum(
        sum(1 for m in create_model(name, **kwargs).modules() if not list(m.children()))
        for name, kwargs in _teacher_specs(cfg)
    )
    return 3 * leaves + teacher_leaves + 60


def _teacher_specs(cfg: TrainConfig) -> list[tuple[str, dict[str, Any]]]:
    """(architecture, kwargs) of each teacher, read from its checkpoint."""
    from emolens.nn.checkpoint import load_checkpoint

    specs = []
    for path in cfg.teachers:
        state = load_checkpoint(path)
        specs.append((state["config"]["model"], state["config"].get("model_kwargs", {})))
    return specs


def measure_s_per_epoch(
    job: Job, train_set: FaceDataset, val_set: FaceDataset, probe_batches: int, workdir: Path
) -> float:
    """Seconds per full epoch of `job` on its device: two epochs of `probe_batches` batches through `train`,
    the second timed (the first pays for start-up), scaled to the full Training and PublicTest splits.

    Args:
        job: the run to measure (its device, batch size, teachers).
        train_set: Training faces; a slice of them is used.
        val_set: PublicTest faces; a slice of the same share is scored each epoch, as a real run scores all.
        probe_batches: batches per measuring epoch.
        workdir: where the measuring run's temporary folder goes.

    Returns:
        Seconds per epoch of the full data set.
    """
    cfg = job.config
    rows = min(len(train_set), probe_batches * cfg.batch_size)
    share = rows / len(train_set)
    val_rows = max(1, round(len(val_set) * share))
    probe_cfg = replace(cfg, epochs=2, warmup_epochs=1, patience=10**6)
    pick = np.random.default_rng(0).permutation(len(train_set))[:rows]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        train(probe_cfg, train_set.subset(np.sort(pick)), val_set.subset(np.arange(val_rows)), Path(tmp))
        with open(Path(tmp) / "log.csv", newline="") as f:
            last = list(csv.DictReader(f))[-1]
    return float(last["seconds"]) / share


def estimate_gpu_s_per_epoch(cfg: TrainConfig, n_train: int, gpu: GpuAssumptions) -> tuple[float, float, int, int]:
    """The GPU estimate of one run (see the module docstring for the formula).

    Args:
        cfg: the run.
        n_train: Training faces per epoch.
        gpu: the stated GPU rates.

    Returns:
        (estimated seconds per epoch, GFLOP per epoch, kernels per step, steps per epoch).
    """
    steps = math.ceil(n_train / cfg.batch_size)
    flops_epoch = train_flops_per_sample(cfg) * n_train
    kernels = kernels_per_step(cfg)
    seconds = flops_epoch / (gpu.peak_flops * gpu.utilisation) + steps * kernels * gpu.launch_s
    return seconds, flops_epoch / 1e9, kernels, steps


def network_cost(job: Job, measured_s: float, n_train: int, gpu: GpuAssumptions, estimate_gpu: bool) -> NetworkCost:
    """The cost row of one job.

    Args:
        job: the run.
        measured_s: its measured seconds per epoch.
        n_train: Training faces per epoch.
        gpu: the stated GPU rates.
        estimate_gpu: plan with the GPU estimate (measured on a CPU, for a GPU run) instead of `measured_s`.

    Returns:
        The row, with both the measured and the planned seconds.
    """
    device = resolve_device(job.config.device)
    estimate, gflop, kernels, steps = estimate_gpu_s_per_epoch(job.config, n_train, gpu)
    planned = estimate if estimate_gpu else measured_s
    return NetworkCost(job.name, job.stage, str(device), measured_s, steps, gflop, kernels, planned)


def fit_epochs(
    costs: list[NetworkCost], desired_teacher_epochs: int, desired_student_epochs: int, available_s: float
) -> tuple[int, int]:
    """The desired epochs, both scaled down by one factor until the two stages fit `available_s`.

    Args:
        costs: every network's planned seconds per epoch.
        desired_teacher_epochs: epochs wanted for the teachers.
        desired_student_epochs: epochs wanted for the students.
        available_s: seconds left for training.

    Returns:
        (teacher epochs, student epochs), each at least 1.
    """
    teacher_s = sum(c.planned_s_per_epoch for c in costs if c.stage == "teachers")
    student_s = sum(c.planned_s_per_epoch for c in costs if c.stage == "students")
    needed = desired_teacher_epochs * teacher_s + desired_student_epochs * student_s
    scale = 1.0 if needed <= available_s else available_s / needed
    return max(1, math.floor(desired_teacher_epochs * scale)), max(1, math.floor(desired_student_epochs * scale))


def format_plan(plan: Plan) -> str:
    """The plan as text: each network's seconds per epoch, the factor, the epochs and the predicted total.

    Args:
        plan: the plan.

    Returns:
        A Markdown table and a few lines.
    """
    g = plan.gpu
    lines = [
        f"plan ({plan.basis}); budget {plan.budget_s:.0f} s, of which {plan.reserved_s:.0f} s reserved "
        "(start-up, measuring, export, evaluation, margin)",
        "",
        "| network | stage | measured on | measured s/epoch | GFLOP/epoch | kernels/step | factor | planned s/epoch |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in plan.networks:
        lines.append(
            f"| {c.name} | {c.stage} | {c.measured_on} | {c.measured_s_per_epoch:.2f} | "
            f"{c.train_gflop_per_epoch:,.0f} | {c.kernels_per_step} | {c.scale_factor:.0f}x | "
            f"{c.planned_s_per_epoch:.2f} |"
        )
    teacher_s, student_s = plan.stage_s_per_epoch("teachers"), plan.stage_s_per_epoch("students")
    lines += [
        "",
        f"teachers: {plan.teacher_epochs} epochs (of {plan.desired_teacher_epochs} wanted) x {teacher_s:.2f} s "
        f"= {plan.teacher_epochs * teacher_s:.0f} s",
        f"students: {plan.student_epochs} epochs (of {plan.desired_student_epochs} wanted) x {student_s:.2f} s "
        f"= {plan.student_epochs * student_s:.0f} s",
        f"predicted: {plan.training_s:.0f} s of training + {plan.reserved_s:.0f} s reserved "
        f"= {plan.training_s + plan.reserved_s:.0f} s of {plan.budget_s:.0f} s",
    ]
    if plan.estimated:
        lines.append(
            f"GPU seconds are an estimate: {g.name} at {g.peak_flops / 1e12:.0f} TFLOP/s bf16 x {g.utilisation:.0%} "
            f"assumed utilisation, plus {g.launch_s * 1e6:.0f} us per kernel launch; the device run measures "
            "its own seconds and fits the epochs again before it trains."
        )
    return "\n".join(lines)
