"""The training loop, readable top to bottom.

Train on `Training`, choose the best epoch on `PublicTest`; PrivateTest is never looked at here.
Every epoch writes `last.pt` (for --resume) and, when PublicTest accuracy improves, `best.pt`;
both are written atomically, so Ctrl-C or a kill loses at most the epoch in progress.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emolens.data.dataset import FaceDataset
from emolens.nn.augment import augment, cutmix, mixup
from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from emolens.nn.config import AugmentConfig as AugmentConfig  # re-exported: emolens.nn.train.TrainConfig stays
from emolens.nn.config import TrainConfig as TrainConfig
from emolens.nn.models import count_parameters, create_model
from emolens.preprocess import preprocess_faces

log = logging.getLogger(__name__)
LOG_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")


class Reporter(Protocol):
    """What the loop tells its caller (the CLI draws progress bars from it)."""

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        """An epoch begins.

        Args:
            epoch: Its number, from 1.
            epochs: The most epochs the run will train.
            batches: Training steps in this epoch.
        """

    def batch_end(self, loss: float, acc: float) -> None:
        """A training step ended.

        Args:
            loss: The batch's loss.
            acc: The batch's accuracy against its targets' argmax.
        """

    def epoch_end(self, row: dict[str, float]) -> None:
        """An epoch ended and was checkpointed.

        Args:
            row: Its log.csv row, by LOG_FIELDS.
        """


class _SilentReporter:
    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...
    def batch_end(self, loss: float, acc: float) -> None: ...
    def epoch_end(self, row: dict[str, float]) -> None: ...


@dataclass(frozen=True)
class TrainResult:
    """What a call to train did: the best epoch and its PublicTest accuracy, the last epoch, the wall time."""

    best_epoch: int
    best_val_acc: float
    epochs_run: int
    seconds: float
    out_dir: Path


def resolve_device(name: str) -> torch.device:
    """The torch device a --device name means.

    Args:
        name: auto (CUDA where torch sees it, else the CPU), cpu, cuda or cuda:N.

    Returns:
        The device.

    Raises:
        ValueError: If CUDA is asked for and torch sees none.
        RuntimeError: If `name` is no device torch knows (torch's own error).
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but torch sees no CUDA device")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (weight init and dropout draw from torch's).

    Args:
        seed: The seed.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _targets(ds: FaceDataset) -> np.ndarray:
    """Soft targets (N, 7): FER+ distributions if attached, else one-hot FER2013 labels."""
    if ds.soft_labels is not None:
        return ds.soft_labels
    return np.eye(7, dtype=np.float32)[ds.labels]


def distillation_loss(student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) at `temperature`, scaled by T^2 so its gradients keep their size (Hinton et al.).

    Args:
        student_logits: The student's logits (N, 7).
        teacher_probs: The teachers' averaged softmax(logits / temperature), (N, 7).
        temperature: The softening temperature both sides were taken at.

    Returns:
        The loss, a scalar tensor.
    """
    log_student = F.log_softmax(student_logits.float() / temperature, dim=1)
    return F.kl_div(log_student, teacher_probs, reduction="batchmean") * temperature**2


def _init_weights(model: nn.Module, cfg: TrainConfig) -> None:
    """Start from another run's weights; only the weights travel, the optimiser and schedule start afresh."""
    state = load_checkpoint(cfg.init_from)
    source = state["config"]
    if source["model"] != cfg.model or source.get("model_kwargs", {}) != cfg.model_kwargs:
        raise ValueError(
            f"{cfg.init_from}: a {source['model']} {source.get('model_kwargs', {})} checkpoint cannot start "
            f"a {cfg.model} {cfg.model_kwargs} run"
        )
    model.load_state_dict(state["model"])
    log.info("starting from the weights of %s (its epoch %s)", cfg.init_from, state.get("epoch"))


def _load_teachers(paths: list[str], device: torch.device, memory_format: torch.memory_format) -> list[nn.Module]:
    # The ignores here and in _build_run: Module.to documents to(..., memory_format=...), but torch's typed
    # overloads of it leave that keyword out.
    teachers = [
        model_from_checkpoint(load_checkpoint(p)).to(device, memory_format=memory_format)  # type: ignore[call-overload]
        for p in paths
    ]
    for t in teachers:
        t.requires_grad_(False)
    return teachers


@torch.no_grad()
def _teacher_probs(
    teachers: list[nn.Module], x: torch.Tensor, temperature: float, device: torch.device, bf16: bool
) -> torch.Tensor:
    with _autocast(device, bf16):
        return torch.stack([torch.softmax(t(x).float() / temperature, dim=1) for t in teachers]).mean(dim=0)


def _autocast(device: torch.device, enabled: bool) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    inputs: torch.Tensor,
    device: torch.device,
    batch_size: int = 512,
    bf16: bool = False,
    flip_tta: bool = False,
) -> torch.Tensor:
    """Logits of a model for preprocessed faces, in batches, without gradients.

    Args:
        model: The network; it is put in eval mode.
        inputs: Preprocessed faces (N, 1, 48, 48), on any device.
        device: Where to run the model.
        batch_size: Faces per forward pass.
        bf16: Run under bfloat16 autocast.
        flip_tta: Average the probabilities of each face and its mirror image (returned as log-probabilities).

    Returns:
        Logits (N, 7) in float32 on the CPU.
    """
    model.eval()
    out = []
    for i in range(0, len(inputs), batch_size):
        x = inputs[i : i + batch_size].to(device)
        with _autocast(device, bf16):
            logits = model(x).float()
            if flip_tta:
                logits = (logits.softmax(1) + model(x.flip(3)).float().softmax(1)).log()
        out.append(logits.cpu())
    return torch.cat(out) if out else torch.zeros(0, 7)


def _truncate_log(log_path: Path, start_epoch: int) -> None:
    """A kill between a log row and its checkpoint leaves a row for an epoch that resume will redo: drop it."""
    if not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(LOG_FIELDS)
        return
    with open(log_path, newline="") as f:
        rows = list(csv.reader(f))
    kept = [rows[0], *(r for r in rows[1:] if r and float(r[0]) < start_epoch)] if rows else [list(LOG_FIELDS)]
    with open(log_path, "w", newline="") as f:
        csv.writer(f).writerows(kept)


def resume_config(out_dir: Path, epochs: int) -> TrainConfig | None:
    """The policy of --resume: a run continues with its own recipe, read from its `last.pt`; only the number
    of epochs may change (to extend a finished run).

    Args:
        out_dir: the run's folder.
        epochs: the total number of epochs now wanted.

    Returns:
        The run's config with `epochs` replaced, or None where the run has no `last.pt` yet.
    """
    last_path = out_dir / "last.pt"
    if not last_path.exists():
        return None
    cfg = TrainConfig.from_dict(load_checkpoint(last_path)["config"])
    cfg.epochs = epochs
    log.info("resuming with the run's own config (epochs now %d)", cfg.epochs)
    return cfg


def train(
    cfg: TrainConfig,
    train_set: FaceDataset,
    val_set: FaceDataset,
    out_dir: Path,
    resume: bool = False,
    reporter: Reporter | None = None,
) -> TrainResult:
    """Fit a model on `train_set`, choosing its best epoch on `val_set` (PublicTest), checkpointing each epoch.

    Args:
        cfg: The recipe; with `resume`, pass the run's own (see resume_config).
        train_set: The faces to learn from (FER2013 Training).
        val_set: The faces the best epoch and early stopping are chosen on (FER2013 PublicTest).
        out_dir: The run's folder: `last.pt`, `best.pt`, `log.csv` and `train.json` are written there.
        resume: Continue from `out_dir/last.pt` where it exists (a new run where it does not).
        reporter: Told of each epoch and batch, for progress bars; None reports nothing.

    Returns:
        The best epoch, its PublicTest accuracy, the last epoch run, this call's wall time and `out_dir`.

    Raises:
        ValueError: If the architecture, the device, the optimiser or the `init_from` checkpoint does not fit
            the recipe.
        TypeError: If `cfg.model_kwargs` holds a keyword the architecture does not take.
        ModelFileError: If a checkpoint to start, resume or distil from cannot be read.
    """
    reporter = reporter or _SilentReporter()
    out_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path, log_path = out_dir / "last.pt", out_dir / "best.pt", out_dir / "log.csv"
    resuming = resume and last_path.exists()
    device = resolve_device(cfg.device)
    bf16 = cfg.bf16 and (device.type == "cuda" or torch.backends.mkldnn.is_available())
    seed_everything(cfg.seed)
    data = _Data.load(train_set, val_set, device)
    steps_per_epoch = math.ceil(len(data.x_train) / cfg.batch_size)
    # The order below is the order the global RNG is drawn from (weights, then teachers): keep it, or a seed
    # stops giving the run it gave before.
    run = _build_run(cfg, device, bf16, steps_per_epoch, init_weights=bool(cfg.init_from) and not resuming)
    standing = _Standing()
    if resuming:
        standing = _restore(run, load_checkpoint(last_path))
        log.info("resumed from %s at epoch %d (best PublicTest %.4f)", last_path, standing.epoch + 1, standing.best_acc)
    elif resume:
        log.warning("--resume: no %s yet, starting a new run", last_path)
    _truncate_log(log_path, standing.epoch + 1)
    log.info("model %s: %d parameters, device %s, bf16 %s", cfg.model, count_parameters(run.model), device, bf16)

    t_start = time.perf_counter()
    # A run that already stopped early stays stopped: resuming it is a no-op, like resuming a finished one.
    last_epoch = cfg.epochs if standing.stale < cfg.patience else standing.epoch
    for epoch in range(standing.epoch + 1, last_epoch + 1):
        t_epoch = time.perf_counter()
        reporter.epoch_start(epoch, cfg.epochs, steps_per_epoch)
        train_loss, train_acc = _train_one_epoch(run, cfg, data, epoch, steps_per_epoch, reporter)
        val_loss, val_acc = _evaluate(run, data)
        row = {
            "epoch": epoch,
            "lr": run.opt.param_groups[0]["lr"],
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - t_epoch,
        }
        _append_log(log_path, row)
        improved = standing.record(epoch, val_acc)
        _save_checkpoints(run, standing, cfg, val_acc, last_path, best_path if improved else None)
        reporter.epoch_end(row)
        if standing.stale >= cfg.patience:
            log.info("stopping early: no better PublicTest accuracy for %d epochs", standing.stale)
            break

    result = TrainResult(standing.best_epoch, standing.best_acc, standing.epoch, time.perf_counter() - t_start, out_dir)
    _write_summary(out_dir / "train.json", cfg, result)
    return result


@dataclass(frozen=True)
class _Data:
    """Both splits preprocessed once, by the one shared function; the training split lives on the device."""

    x_train: torch.Tensor
    y_train: torch.Tensor  # soft targets (N, 7)
    x_val: torch.Tensor
    y_val: torch.Tensor  # class indices (N,)

    @classmethod
    def load(cls, train_set: FaceDataset, val_set: FaceDataset, device: torch.device) -> _Data:
        return cls(
            x_train=torch.from_numpy(preprocess_faces(train_set.images)).to(device),
            y_train=torch.from_numpy(_targets(train_set)).to(device),
            x_val=torch.from_numpy(preprocess_faces(val_set.images)),
            y_val=torch.from_numpy(val_set.labels),
        )


@dataclass
class _Run:
    """What the loop trains with: the model, its optimiser and schedule, the teachers, the seeded generators."""

    model: nn.Module  # the plain module: its weights are what checkpoints keep
    forward: Callable[[torch.Tensor], torch.Tensor]  # the model, or its torch.compile'd wrapper, for training steps
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    teachers: list[nn.Module]
    gen: torch.Generator  # on the device: augmentation and mix partners
    cpu_gen: torch.Generator  # the shuffle of each epoch
    device: torch.device
    bf16: bool
    memory_format: torch.memory_format


@dataclass
class _Standing:
    """Where the run stands after its last finished epoch: the state early stopping and best.pt go by."""

    epoch: int = 0
    best_acc: float = -1.0
    best_epoch: int = 0
    stale: int = 0  # epochs since PublicTest accuracy last improved

    def record(self, epoch: int, val_acc: float) -> bool:
        """Count a finished epoch; True when its PublicTest accuracy is the best so far."""
        self.epoch = epoch
        if val_acc > self.best_acc:
            self.best_acc, self.best_epoch, self.stale = val_acc, epoch, 0
            return True
        self.stale += 1
        return False


def _build_run(cfg: TrainConfig, device: torch.device, bf16: bool, steps_per_epoch: int, init_weights: bool) -> _Run:
    """The model (from `init_from` where asked), its optimiser and schedule, the teachers and the generators."""
    model = create_model(cfg.model, **cfg.model_kwargs).to(device)
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    if init_weights:
        _init_weights(model, cfg)
    model = model.to(memory_format=memory_format)  # type: ignore[call-overload]  # see _load_teachers
    opt, sched = _build_optimiser(model, cfg, steps_per_epoch)
    return _Run(
        model=model,
        forward=torch.compile(model) if cfg.compile else model,
        opt=opt,
        sched=sched,
        teachers=_load_teachers(cfg.teachers, device, memory_format),
        gen=torch.Generator(device=device).manual_seed(cfg.seed),
        cpu_gen=torch.Generator().manual_seed(cfg.seed),
        device=device,
        bf16=bf16,
        memory_format=memory_format,
    )


def _build_optimiser(
    model: nn.Module, cfg: TrainConfig, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """The optimiser (weight decay on weights only, not on biases and norms) and its per-step schedule."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    elif cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=cfg.lr)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose sgd or adamw")
    total_steps = cfg.epochs * steps_per_epoch
    warmup_steps = cfg.warmup_epochs * steps_per_epoch

    def lr_factor(step: int) -> float:  # linear warm-up, then cosine to zero
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)


def _restore(run: _Run, state: dict[str, Any]) -> _Standing:
    """Put a `last.pt` back into `run` (weights, optimiser, schedule, generators); where the run stood."""
    run.model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    run.sched.load_state_dict(state["scheduler"])
    rng_device = state["rng_device"]
    run.gen.set_state(rng_device.to(run.gen.get_state().device) if run.device.type == "cuda" else rng_device)
    run.cpu_gen.set_state(state["rng_cpu"])
    return _Standing(state["epoch"], state["best_val_acc"], state["best_epoch"], state["stale"])


def _train_one_epoch(
    run: _Run, cfg: TrainConfig, data: _Data, epoch: int, steps_per_epoch: int, reporter: Reporter
) -> tuple[float, float]:
    """One pass over the shuffled training split; its mean loss and accuracy (against the targets' argmax)."""
    run.model.train()
    order = torch.randperm(len(data.x_train), generator=run.cpu_gen).to(run.device)
    loss_sum, correct, seen = 0.0, 0, 0
    for i in range(steps_per_epoch):
        idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
        x = augment(data.x_train[idx], cfg.augment, run.gen).contiguous(memory_format=run.memory_format)
        x, y = _mix(x, data.y_train[idx], cfg, run, epoch, i)
        with _autocast(run.device, run.bf16):
            logits = run.forward(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        if run.teachers:
            soft = _teacher_probs(run.teachers, x, cfg.distill_temperature, run.device, run.bf16)
            distilled = distillation_loss(logits, soft, cfg.distill_temperature)
            loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distilled
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        run.sched.step()
        batch_correct = int((logits.argmax(1) == y.argmax(1)).sum())
        loss_sum += loss.item() * len(x)
        correct += batch_correct
        seen += len(x)
        reporter.batch_end(loss.item(), batch_correct / len(x))
    return loss_sum / seen, correct / seen


def _mix(
    x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, run: _Run, epoch: int, step: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup or cutmix of a batch with a permutation of itself, where the recipe asks for one."""
    mix_alpha = cfg.mixup_alpha or cfg.cutmix_alpha
    if mix_alpha <= 0:
        return x, y
    # Seeded per batch, so a resumed run mixes exactly as an uninterrupted one.
    mix_rng = np.random.default_rng(cfg.seed * 100_003 + epoch * 1009 + step)
    lam = float(mix_rng.beta(mix_alpha, mix_alpha))
    perm = torch.randperm(len(x), generator=run.gen, device=run.device)
    if cfg.mixup_alpha > 0:
        return mixup(x, y, perm, lam)
    return cutmix(x, y, perm, lam, (float(mix_rng.random()), float(mix_rng.random())))


def _evaluate(run: _Run, data: _Data) -> tuple[float, float]:
    """PublicTest loss and accuracy of the model as it stands."""
    logits = predict_logits(run.model, data.x_val, run.device, bf16=run.bf16)
    return float(F.cross_entropy(logits, data.y_val)), float((logits.argmax(1) == data.y_val).float().mean())


def _append_log(log_path: Path, row: dict[str, float]) -> None:
    """One epoch's row; six significant figures are plenty for a curve and keep the file readable."""
    with open(log_path, "a", newline="") as f:
        csv.writer(f).writerow([f"{row[k]:.6g}" for k in LOG_FIELDS])


def _save_checkpoints(
    run: _Run, standing: _Standing, cfg: TrainConfig, val_acc: float, last_path: Path, best_path: Path | None
) -> None:
    """`last.pt` (all that --resume needs) and, when given a path, `best.pt` (the same less optimiser and schedule)."""
    state = {
        "config": asdict(cfg),
        "model": run.model.state_dict(),
        "optimizer": run.opt.state_dict(),
        "scheduler": run.sched.state_dict(),
        "rng_device": run.gen.get_state(),
        "rng_cpu": run.cpu_gen.get_state(),
        "epoch": standing.epoch,
        "best_val_acc": standing.best_acc,
        "best_epoch": standing.best_epoch,
        "stale": standing.stale,
        "val_acc": val_acc,
    }
    # best.pt before last.pt: a kill between the two leaves last.pt an epoch behind, so resume redoes the epoch
    # and writes best.pt again; the other order could leave a last.pt naming a best epoch best.pt does not hold.
    if best_path is not None:
        save_checkpoint(best_path, {k: v for k, v in state.items() if k not in ("optimizer", "scheduler")})
    save_checkpoint(last_path, state)


def _write_summary(path: Path, cfg: TrainConfig, result: TrainResult) -> None:
    """train.json: the recipe and the outcome, for a reader who has no torch to open a checkpoint with."""
    summary = {
        "config": asdict(cfg),
        "best_epoch": result.best_epoch,
        "best_PublicTest_acc": result.best_val_acc,
        "epochs_run": result.epochs_run,
        "seconds_this_run": round(result.seconds, 1),
    }
    path.write_text(json.dumps(summary, indent=2))
