"""A training recipe as stages of jobs: larger teachers first, then small students distilled from them.

The jobs of a stage run at once, one process each, on one device (a GPU runs several small networks better
than one: each fills the others' launch gaps). Every job is `train` with `resume=True` in its own folder, so
a stage stopped at its deadline loses at most the epoch in progress, and the next call continues it; a job
that ends writes `done` beside its checkpoints and is skipped from then on.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emolens.data.dataset import SPLITS, FaceDataset
from emolens.data.ferplus import votes_to_labels
from emolens.nn.checkpoint import save_checkpoint
from emolens.nn.models import create_model
from emolens.nn.train import TrainConfig, train

from .budget import Job
from .errors import RecipeError
from .pack import load_pack

log = logging.getLogger(__name__)
LABEL_SOURCES = ("fer", "ferplus-soft")


@dataclass(frozen=True)
class NetSpec:
    """One network of a stage: architecture, constructor arguments, seed."""

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def name(self) -> str:
        """The run's folder name, e.g. resnet_s-width64-blocks2x2x2-seed0."""
        kwargs = "".join(
            f"-{k}{'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in self.model_kwargs.items()
        )
        return f"{self.model}{kwargs}-seed{self.seed}"


#: Teachers: the VGG of Khaireddin and Chen (2021; `vgg_b` is that family: conv pairs of 64 to 512 channels
#: with batch norm, 73.3% with 300+ epochs on a GPU) and a ResNet twice as wide and deep as `resnet_s`.
DEFAULT_TEACHERS: tuple[NetSpec, ...] = (
    NetSpec("vgg_b", {}, 0),
    NetSpec("resnet_s", {"width": 64, "blocks": [2, 2, 2]}, 0),
)
#: Students: the shipped architecture, two seeds; `fast` is the better on PublicTest, `accurate` both.
DEFAULT_STUDENTS: tuple[NetSpec, ...] = (NetSpec("resnet_s", {}, 0), NetSpec("resnet_s", {}, 1))


@dataclass(frozen=True)
class RecipeConfig:
    """Every setting of the recipe; `--config recipe.json` gives any of them (NetSpec fields for the networks)."""

    teachers: tuple[NetSpec, ...] = DEFAULT_TEACHERS
    students: tuple[NetSpec, ...] = DEFAULT_STUDENTS
    teacher_epochs: int = 300  # wanted; the plan scales both stages down alike until they fit the budget
    student_epochs: int = 200
    batch_size: int = 256
    lr: float = 0.1  # the CPU recipe's 0.05 at batch 128, scaled with the batch
    labels: str = "fer"  # fer (FER2013's labels) or ferplus-soft (FER+ vote distributions, Training only)
    distill_weight: float = 0.7
    distill_temperature: float = 2.0
    budget_s: float = 540.0  # the whole command: 9 minutes, inside the device's 10-minute limit
    startup_reserve_s: float = 60.0  # unpacking and measuring; a run on the device counts the real seconds
    export_reserve_s: float = 60.0  # export, temperatures, int8, evaluation, the state bundle
    margin: float = 0.10  # share of the budget left unplanned
    parallel: int = 4  # jobs of a stage at once
    probe_batches: int = 4  # batches per measuring epoch
    # torch.compile the training forward (TrainConfig.compile): checked on a CPU only; its compile time (the first
    # epoch of each job) is not in the plan, which times the second epoch. Off until a GPU run measures it.
    compile: bool = False
    fit_epochs: bool = True  # False: train the wanted epochs whatever the plan says
    calibration_faces: int = 1024  # Training faces that calibrate the int8 activation ranges

    def __post_init__(self) -> None:
        if self.labels not in LABEL_SOURCES:
            raise ValueError(f"unknown label source {self.labels!r}; choose {' or '.join(LABEL_SOURCES)}")
        if not self.teachers or not self.students:
            raise ValueError("a recipe needs at least one teacher and one student")

    def to_dict(self) -> dict[str, Any]:
        """The settings, for metrics.json.

        Returns:
            JSON-ready values.
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RecipeConfig:
        """Settings from JSON; unknown names are refused.

        Args:
            raw: a subset of the fields, networks as lists of NetSpec fields.

        Returns:
            The configuration, defaults elsewhere.

        Raises:
            ValueError: an unknown setting or label source.
        """
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown recipe settings: {', '.join(sorted(unknown))}")
        raw = dict(raw)
        for stage in ("teachers", "students"):
            if stage in raw:
                raw[stage] = tuple(NetSpec(**spec) for spec in raw[stage])
        return cls(**raw)


def _train_config(cfg: RecipeConfig, spec: NetSpec, epochs: int, device: str, **extra: Any) -> TrainConfig:
    return TrainConfig(
        model=spec.model, model_kwargs=dict(spec.model_kwargs), epochs=epochs, batch_size=cfg.batch_size,
        lr=cfg.lr, seed=spec.seed, device=device, compile=cfg.compile, **extra,
    )  # fmt: skip


def teacher_jobs(cfg: RecipeConfig, epochs: int, device: str) -> list[Job]:
    """The teachers' runs.

    Args:
        cfg: the recipe.
        epochs: epochs of each run.
        device: auto, cpu or cuda.

    Returns:
        One job per teacher.
    """
    return [Job(f"teacher-{s.name}", "teachers", _train_config(cfg, s, epochs, device)) for s in cfg.teachers]


def student_jobs(cfg: RecipeConfig, epochs: int, device: str, teacher_checkpoints: list[Path]) -> list[Job]:
    """The students' runs, each distilled from all the teachers.

    Args:
        cfg: the recipe.
        epochs: epochs of each run.
        device: auto, cpu or cuda.
        teacher_checkpoints: the teachers' best.pt files.

    Returns:
        One job per student.
    """
    distill = {
        "teachers": [str(p) for p in teacher_checkpoints],
        "distill_weight": cfg.distill_weight,
        "distill_temperature": cfg.distill_temperature,
    }
    return [
        Job(f"student-{s.name}", "students", _train_config(cfg, s, epochs, device, **distill)) for s in cfg.students
    ]


def untrained_checkpoints(cfg: RecipeConfig, folder: Path) -> list[Path]:
    """Teachers with their initial weights: a student's step costs the same with these as with trained ones.

    Args:
        cfg: the recipe.
        folder: where to write them.

    Returns:
        One checkpoint per teacher.
    """
    paths = []
    for job in teacher_jobs(cfg, 1, "cpu"):
        model = create_model(job.config.model, **job.config.model_kwargs)
        path = folder / f"{job.name}.pt"
        save_checkpoint(path, {"config": asdict(job.config), "model": model.state_dict(), "epoch": 0})
        paths.append(path)
    return paths


# --- data ------------------------------------------------------------------------------------------


def unpack_faces(pack: Path, out: Path) -> Path:
    """The pack decoded once into raw arrays that every job process loads in a moment.

    Args:
        pack: the file `emolens_recipe.pack.pack_fer` wrote.
        out: the .npz to write; kept, and reused, if it is there.

    Returns:
        `out`.
    """
    if not out.exists():
        loaded = load_pack(pack)
        arrays = {"images": loaded.dataset.images, "labels": loaded.dataset.labels, "usage": loaded.dataset.usage}
        if loaded.votes is not None:
            arrays["votes"] = loaded.votes
        tmp = out.with_suffix(".tmp.npz")
        np.savez(tmp, allow_pickle=False, **arrays)
        tmp.replace(out)
    return out


def load_faces(faces: Path, labels: str) -> tuple[FaceDataset, FaceDataset]:
    """The two splits of unpacked faces.

    Args:
        faces: the file `unpack_faces` wrote.
        labels: "fer", or "ferplus-soft": Training learns FER+ vote distributions and leaves out the faces FER+
            calls no face, while PublicTest keeps FER2013's labels (the protocol's).

    Returns:
        (Training, PublicTest).

    Raises:
        ValueError: ferplus-soft asked of a pack without votes.
    """
    with np.load(faces) as z:
        dataset = FaceDataset(images=z["images"], labels=z["labels"], usage=z["usage"], source=str(faces))
        votes = z["votes"] if "votes" in z.files else None
    train_set, val_set = dataset.split("Training"), dataset.split("PublicTest")
    if labels == "ferplus-soft":
        if votes is None:
            raise ValueError(f"{faces}: labels ferplus-soft need FER+ votes, and the pack has none")
        soft, usable = votes_to_labels(votes[dataset.usage == SPLITS.index("Training")], "soft")
        train_set = replace(train_set, soft_labels=soft).subset(usable)
    return train_set, val_set


# --- running a stage -------------------------------------------------------------------------------


def _run_job(job: Job, faces: str, labels: str, out_dir: str, threads: int) -> None:
    """A job in its own process: train (continuing what is there), then mark the folder done."""
    torch.set_num_threads(threads)
    train_set, val_set = load_faces(Path(faces), labels)
    result = train(job.config, train_set, val_set, Path(out_dir), resume=True)
    (Path(out_dir) / "done").write_text(json.dumps({"best_epoch": result.best_epoch, "epochs_run": result.epochs_run}))


def run_stage(
    jobs: list[Job], workdir: Path, faces: Path, labels: str, parallel: int, deadline: float, threads: int
) -> bool:
    """Run the jobs not yet done, `parallel` at once, until all end or `deadline` passes.

    Args:
        jobs: the stage's runs; each trains in workdir/<name>, continuing what is there.
        workdir: the recipe's folder.
        faces: the file `unpack_faces` wrote.
        labels: the label source (see `load_faces`).
        parallel: jobs at once.
        deadline: a `time.monotonic()` value.
        threads: torch CPU threads per job.

    Returns:
        True when every job is done; False at the deadline (the running ones are stopped, their last finished
        epoch kept).

    Raises:
        RecipeError: a job's process failed; its own error was printed on stderr.
    """
    pending = [j for j in jobs if not (workdir / j.name / "done").exists()]
    running: list[tuple[Job, Any]] = []
    ctx = mp.get_context("spawn")  # a fresh interpreter per job: no CUDA state is ever forked
    try:
        while pending or running:
            if time.monotonic() > deadline:
                if running:
                    log.warning("deadline: stopping %s", ", ".join(j.name for j, _ in running))
                return False
            while pending and len(running) < parallel:
                job = pending.pop(0)
                args = (job, str(faces), labels, str(workdir / job.name), threads)
                proc = ctx.Process(target=_run_job, args=args, name=job.name)
                proc.start()
                running.append((job, proc))
                log.info("%s: started (%d epochs)", job.name, job.config.epochs)
            time.sleep(0.2)
            for job, proc in list(running):
                if proc.exitcode is None:
                    continue
                running.remove((job, proc))
                if proc.exitcode != 0:
                    raise RecipeError(f"{job.name}: training failed (exit status {proc.exitcode}); see its error above")
                log.info("%s: done", job.name)
        return True
    finally:
        for _, proc in running:
            proc.terminate()
            proc.join()
