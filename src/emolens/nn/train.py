"""The training loop, readable top to bottom.

Train on `Training`, choose the best epoch on `PublicTest`; PrivateTest is never looked at here.
Every epoch writes `last.pt` (for --resume) and, when PublicTest accuracy improves, `best.pt`;
both are written atomically, so Ctrl-C or a kill loses at most the epoch in progress.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emolens.data.dataset import FaceDataset
from emolens.nn.augment import AugmentConfig, augment, cutmix, mixup
from emolens.nn.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from emolens.nn.models import count_parameters, create_model
from emolens.preprocess import preprocess_faces

log = logging.getLogger(__name__)
LOG_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")


@dataclass
class TrainConfig:
    model: str = "resnet_s"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 60
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd (Nesterov momentum) or adamw
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0  # one of mixup and cutmix at most
    init_from: str = ""  # a checkpoint of the same architecture to start from (fine-tuning); "" = random weights
    # Knowledge distillation: checkpoints whose averaged softened probabilities the student also learns from.
    teachers: list[str] = field(default_factory=list)
    distill_weight: float = 0.0  # share of the loss from the teachers; the rest is the labels' cross-entropy
    distill_temperature: float = 2.0
    patience: int = 20  # epochs without a better PublicTest accuracy before stopping early
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    bf16: bool = True  # bfloat16 autocast where the hardware has it (CPU AVX512-BF16, CUDA)
    channels_last: bool = True
    # torch.compile the training forward pass (worth it on a GPU, where small kernels are launch-bound); the
    # checkpoints keep the plain module's weights, so they load without it.
    compile: bool = False
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ValueError(f"distill_weight (--distill-weight) must be between 0 and 1, got {self.distill_weight}")
        if bool(self.teachers) != (self.distill_weight > 0):
            raise ValueError("distillation needs both teachers (--teacher) and distill_weight > 0, or neither")
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            raise ValueError("choose one of mixup (--mixup) and cutmix (--cutmix), not both")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        raw = dict(raw)
        augment_raw = dict(raw.get("augment", {}))
        if augment_raw and "blur_p" not in augment_raw:
            augment_raw["blur_p"] = 0.0  # a run from before blur augmentation keeps its recipe on --resume
        raw["augment"] = AugmentConfig(**augment_raw)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


class Reporter(Protocol):
    """What the loop tells its caller (the CLI draws progress bars from it)."""

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...
    def batch_end(self, loss: float, acc: float) -> None: ...
    def epoch_end(self, row: dict[str, float]) -> None: ...


class _SilentReporter:
    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None: ...
    def batch_end(self, loss: float, acc: float) -> None: ...
    def epoch_end(self, row: dict[str, float]) -> None: ...


@dataclass(frozen=True)
class TrainResult:
    best_epoch: int
    best_val_acc: float
    epochs_run: int
    seconds: float
    out_dir: Path


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but torch sees no CUDA device")
    return device


def seed_everything(seed: int) -> None:
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

    `teacher_probs` are the teachers' averaged softmax(logits / temperature)."""
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
    teachers = [model_from_checkpoint(load_checkpoint(p)).to(device, memory_format=memory_format) for p in paths]
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
    """Logits (N, 7) in float32 on the CPU for preprocessed inputs (N, 1, 48, 48)."""
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
    reporter = reporter or _SilentReporter()
    out_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(cfg.device)
    bf16 = cfg.bf16 and (device.type == "cuda" or torch.backends.mkldnn.is_available())
    seed_everything(cfg.seed)

    # Data: preprocessed once with the one shared function, kept as tensors on the device.
    x_train = torch.from_numpy(preprocess_faces(train_set.images)).to(device)
    y_train = torch.from_numpy(_targets(train_set)).to(device)
    x_val = torch.from_numpy(preprocess_faces(val_set.images))
    y_val = torch.from_numpy(val_set.labels)

    model = create_model(cfg.model, **cfg.model_kwargs).to(device)
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    if cfg.init_from and not (resume and (out_dir / "last.pt").exists()):
        _init_weights(model, cfg)
    model = model.to(memory_format=memory_format)
    forward = torch.compile(model) if cfg.compile else model
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    elif cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=cfg.lr)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose sgd or adamw")
    steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    warmup_steps = cfg.warmup_epochs * steps_per_epoch

    def lr_factor(step: int) -> float:  # linear warm-up, then cosine to zero
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    teachers = _load_teachers(cfg.teachers, device, memory_format)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    cpu_gen = torch.Generator().manual_seed(cfg.seed)

    start_epoch, best_acc, best_epoch, stale = 1, -1.0, 0, 0
    last_path, best_path, log_path = out_dir / "last.pt", out_dir / "best.pt", out_dir / "log.csv"
    if resume and last_path.exists():
        state = load_checkpoint(last_path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["rng_device"].to(gen.get_state().device) if device.type == "cuda" else state["rng_device"])
        cpu_gen.set_state(state["rng_cpu"])
        start_epoch, best_acc, best_epoch, stale = (
            state["epoch"] + 1,
            state["best_val_acc"],
            state["best_epoch"],
            state["stale"],
        )
        log.info("resumed from %s at epoch %d (best PublicTest %.4f)", last_path, start_epoch, best_acc)
    elif resume:
        log.warning("--resume: no %s yet, starting a new run", last_path)
    _truncate_log(log_path, start_epoch)
    log.info("model %s: %d parameters, device %s, bf16 %s", cfg.model, count_parameters(model), device, bf16)

    t_start = time.perf_counter()
    epoch = start_epoch - 1
    # A run that already stopped early stays stopped: resuming it is a no-op, like resuming a finished one.
    last_epoch = cfg.epochs if stale < cfg.patience else start_epoch - 1
    for epoch in range(start_epoch, last_epoch + 1):
        t_epoch = time.perf_counter()
        model.train()
        reporter.epoch_start(epoch, cfg.epochs, steps_per_epoch)
        order = torch.randperm(len(x_train), generator=cpu_gen).to(device)
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            x = augment(x_train[idx], cfg.augment, gen).contiguous(memory_format=memory_format)
            y = y_train[idx]
            mix_alpha = cfg.mixup_alpha or cfg.cutmix_alpha
            if mix_alpha > 0:
                # Seeded per batch, so a resumed run mixes exactly as an uninterrupted one.
                mix_rng = np.random.default_rng(cfg.seed * 100_003 + epoch * 1009 + i)
                lam = float(mix_rng.beta(mix_alpha, mix_alpha))
                perm = torch.randperm(len(x), generator=gen, device=device)
                if cfg.mixup_alpha > 0:
                    x, y = mixup(x, y, perm, lam)
                else:
                    x, y = cutmix(x, y, perm, lam, (float(mix_rng.random()), float(mix_rng.random())))
            with _autocast(device, bf16):
                logits = forward(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
            if teachers:
                soft = _teacher_probs(teachers, x, cfg.distill_temperature, device, bf16)
                distilled = distillation_loss(logits, soft, cfg.distill_temperature)
                loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distilled
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            batch_correct = int((logits.argmax(1) == y.argmax(1)).sum())
            loss_sum += loss.item() * len(x)
            correct += batch_correct
            seen += len(x)
            reporter.batch_end(loss.item(), batch_correct / len(x))

        val_logits = predict_logits(model, x_val, device, bf16=bf16)
        val_loss = float(F.cross_entropy(val_logits, y_val))
        val_acc = float((val_logits.argmax(1) == y_val).float().mean())
        row = {
            "epoch": epoch,
            "lr": opt.param_groups[0]["lr"],
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - t_epoch,
        }
        with open(log_path, "a", newline="") as f:
            csv.writer(f).writerow([f"{row[k]:.6g}" for k in LOG_FIELDS])
        improved = val_acc > best_acc
        if improved:
            best_acc, best_epoch, stale = val_acc, epoch, 0
        else:
            stale += 1
        state = {
            "config": asdict(cfg),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "rng_device": gen.get_state(),
            "rng_cpu": cpu_gen.get_state(),
            "epoch": epoch,
            "best_val_acc": best_acc,
            "best_epoch": best_epoch,
            "stale": stale,
            "val_acc": val_acc,
        }
        if improved:
            save_checkpoint(best_path, {k: v for k, v in state.items() if k not in ("optimizer", "scheduler")})
        save_checkpoint(last_path, state)
        reporter.epoch_end(row)
        if stale >= cfg.patience:
            log.info("stopping early: no better PublicTest accuracy for %d epochs", stale)
            break

    result = TrainResult(best_epoch, best_acc, epoch, time.perf_counter() - t_start, out_dir)
    (out_dir / "train.json").write_text(
        json.dumps(
            {
                "config": asdict(cfg),
                "best_epoch": best_epoch,
                "best_PublicTest_acc": best_acc,
                "epochs_run": epoch,
                "seconds_this_run": round(result.seconds, 1),
            },
            indent=2,
        )
    )
    return result
