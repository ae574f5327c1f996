"""What a training run is told: `TrainConfig` and its `AugmentConfig`, without torch, so that `emolens train`
builds its flags from these fields (defaults, types and help: each written once, here) without importing torch.

A field becomes a flag of `emolens train` when its metadata has "help"; "flag" names it where the field's own
name would read badly (mixup_alpha is --mixup), and "choices" limits it. `emolens.cli.common.add_field_flags`
reads these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

#: What `tta` an exported model may bake in: "flip" also averages each face's mirror image, inside the graph.
ExportTta = Literal["none", "flip"]


def _flag(help_text: str, **more: Any) -> dict[str, Any]:
    return {"help": help_text, **more}


@dataclass(frozen=True)
class AugmentConfig:
    """How strongly `augment` distorts each face; every range is drawn uniformly, per sample.

    rotation_deg: largest rotation either way. shift_frac: largest shift, as a fraction of the side.
    zoom_frac: scale drawn from [1 - zoom_frac, 1 + zoom_frac]. hflip_p: chance of a mirror image.
    brightness, contrast: offset and gain ranges (see the comments). erase_p: chance that one rectangle of 10-50%
    of each side is set to 0. blur_p, blur_sigma_max_px: chance of a Gaussian blur, and its largest sigma.
    """

    rotation_deg: float = 10.0
    shift_frac: float = 0.1
    zoom_frac: float = 0.1
    hflip_p: float = 0.5
    brightness: float = 0.2  # additive, in standardised units
    contrast: float = 0.2  # multiplicative, +-
    erase_p: float = 0.25  # random erasing of one rectangle up to a quarter of the image
    # Detector crops of small or moving faces are soft; FER2013's are sharp. Blur half of the batch.
    blur_p: float = field(
        default=0.5,
        metadata=_flag(
            "share of training faces blurred like a detector's soft crops; 0: the recipe before blur augmentation"
        ),
    )
    blur_sigma_max_px: float = 1.5


@dataclass
class TrainConfig:
    """A training recipe: everything a run needs besides its data, saved in each checkpoint for --resume.

    Raises:
        ValueError: If the distillation settings or the mix augmentations contradict each other.
    """

    model: str = field(default="resnet_s", metadata=_flag("architecture name (see emolens.nn.MODELS)"))
    model_kwargs: dict[str, Any] = field(
        default_factory=dict, metadata=_flag("JSON, e.g. '{\"width\": 48}'", json=True)
    )
    epochs: int = field(default=60, metadata=_flag("most epochs to train (early stopping may end sooner)"))
    batch_size: int = field(default=128, metadata=_flag("faces per training step"))
    optimizer: str = field(
        default="sgd", metadata=_flag("SGD with Nesterov momentum, or AdamW", choices=("sgd", "adamw"))
    )
    lr: float = field(default=0.05, metadata=_flag("peak learning rate, after warm-up"))
    momentum: float = 0.9
    weight_decay: float = field(default=5e-4, metadata=_flag("L2 weight decay"))
    warmup_epochs: int = field(default=2, metadata=_flag("linear learning-rate warm-up, in epochs"))
    label_smoothing: float = field(default=0.1, metadata=_flag("share of each target spread over the other classes"))
    mixup_alpha: float = field(default=0.0, metadata=_flag("mixup alpha; 0 turns it off", flag="--mixup"))
    cutmix_alpha: float = field(  # one of mixup and cutmix at most
        default=0.0, metadata=_flag("cutmix alpha; 0 turns it off (not with --mixup)", flag="--cutmix")
    )
    #: A checkpoint of the same architecture to start from (fine-tuning); "" = random weights.
    init_from: str = field(
        default="",
        metadata=_flag(
            "start from this checkpoint's weights (same --model), with a fresh schedule", flag="--init", path=True
        ),
    )
    # Knowledge distillation: checkpoints whose averaged softened probabilities the student also learns from.
    teachers: list[str] = field(
        default_factory=list,
        metadata=_flag(
            "distil from this checkpoint (repeat for an ensemble of teachers); needs --distill-weight",
            flag="--teacher",
            path=True,
        ),
    )
    #: Share of the loss from the teachers; the rest is the labels' cross-entropy.
    distill_weight: float = field(default=0.0, metadata=_flag("share of the loss from the teachers, 0-1"))
    distill_temperature: float = field(default=2.0, metadata=_flag("softening temperature for distillation"))
    #: Epochs without a better PublicTest accuracy before stopping early.
    patience: int = field(default=20, metadata=_flag("early stopping, in epochs"))
    seed: int = field(default=0, metadata=_flag("seed of weights, shuffling and augmentation"))
    device: str = field(default="auto", metadata=_flag("auto, cpu, cuda or cuda:N"))
    #: bfloat16 autocast where the hardware has it (CPU AVX512-BF16, CUDA).
    bf16: bool = field(default=True, metadata=_flag("train in float32 only", flag="--no-bf16"))
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
        """A config from its `asdict` form, as a checkpoint stores it; keys this version does not know are dropped.

        Args:
            raw: The checkpoint's "config".

        Returns:
            The config; a run from before blur augmentation gets blur_p 0, the recipe it trained with.
        """
        raw = dict(raw)
        augment_raw = dict(raw.get("augment", {}))
        if augment_raw and "blur_p" not in augment_raw:
            augment_raw["blur_p"] = 0.0  # a run from before blur augmentation keeps its recipe on --resume
        raw["augment"] = AugmentConfig(**augment_raw)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True)
class ExportOptions:
    """How `emolens export` writes a model from checkpoints; every field is one of its flags
    (`emolens.cli.common.add_field_flags`), so each default is written once, here, without torch.
    """

    tta: ExportTta = field(
        default="none",
        metadata=_flag(
            "flip: the model also looks at each face's mirror image and averages (twice the cost)",
            choices=get_args(ExportTta),
        ),
    )
    temperature: float = field(
        default=1.0, metadata=_flag("softmax temperature baked into the model (see `emolens eval --calibration`)")
    )
    threads: int = field(default=1, metadata=_flag("torch CPU threads"))  # 0 or less: torch's own choice
    calibration_faces: int = field(default=1024, metadata=_flag("Training faces used to calibrate int8"))

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
