"""Network architectures and `create_model(name)`.

Every model maps a (N, 1, 48, 48) float tensor made by `emolens.preprocess` to (N, 7) logits.
`vgg_a` and `vgg_b` are the two tutorial networks this project grew from, kept faithful so that
their numbers can be compared; `mini_xception` is the network of the `fer` package; `resnet_s` is
our own: a small pre-activation-free ResNet that reaches higher accuracy per CPU millisecond.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from emolens.types import EMOTIONS

NUM_CLASSES = len(EMOTIONS)


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class VggA(nn.Module):
    """Tutorial A: conv32x2, conv64x2, conv128x2 (BatchNorm, max-pooling), dense 512, 7 outputs.

    Args:
        dropout: Dropout probability before the output layer.
    """

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for c in (32, 64, 128):
            layers += _conv_bn(c_in, c) + _conv_bn(c, c) + [nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 6 * 6, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(512, NUM_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch.

        Args:
            x: Preprocessed faces, (N, 1, 48, 48) float.

        Returns:
            Logits, (N, 7), in EMOTIONS order.
        """
        return self.head(self.features(x))


class VggB(nn.Module):
    """Tutorial B: conv64x2, 128x2, 256x2, 512x2 with BatchNorm and dropout 0.5, dense 512-256-128.

    The tutorial's L2 penalty is the optimiser's weight decay (see `TrainConfig.weight_decay`).

    Args:
        dropout: Dropout probability after each conv stage and each hidden dense layer.
    """

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for c in (64, 128, 256, 512):
            layers += _conv_bn(c_in, c) + _conv_bn(c, c) + [nn.MaxPool2d(2), nn.Dropout(dropout)]
            c_in = c
        self.features = nn.Sequential(*layers)
        dense: list[nn.Module] = [nn.Flatten()]
        d_in = 512 * 3 * 3
        for d in (512, 256, 128):
            dense += [nn.Linear(d_in, d), nn.BatchNorm1d(d), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            d_in = d
        dense.append(nn.Linear(d_in, NUM_CLASSES))
        self.head = nn.Sequential(*dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch.

        Args:
            x: Preprocessed faces, (N, 1, 48, 48) float.

        Returns:
            Logits, (N, 7), in EMOTIONS order.
        """
        return self.head(self.features(x))


class _SeparableResidual(nn.Module):
    """mini-Xception's block: two depthwise-separable convs and a strided 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()

        def sep(a: int, b: int) -> list[nn.Module]:
            return [
                nn.Conv2d(a, a, 3, padding=1, groups=a, bias=False),
                nn.Conv2d(a, b, 1, bias=False),
                nn.BatchNorm2d(b),
            ]

        self.body = nn.Sequential(*sep(c_in, c_out), nn.ReLU(inplace=True), *sep(c_out, c_out), nn.MaxPool2d(3, 2, 1))
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class MiniXception(nn.Module):
    """Arriaga et al. 2017, as in the `fer` package: 8-channel stem, four separable residual blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn(1, 8), *_conv_bn(8, 8))
        self.blocks = nn.Sequential(*(_SeparableResidual(a, b) for a, b in ((8, 16), (16, 32), (32, 64), (64, 128))))
        self.head = nn.Sequential(nn.Conv2d(128, NUM_CLASSES, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch.

        Args:
            x: Preprocessed faces, (N, 1, 48, 48) float.

        Returns:
            Logits, (N, 7), in EMOTIONS order.
        """
        return self.head(self.blocks(self.stem(x)))


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn(c_in, c_out, stride),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResNetS(nn.Module):
    """Our default: a stem at full 48x48 resolution, then residual stages at 24, 12 and 6 pixels.

    `width` scales every stage; `blocks` is the number of basic blocks per stage.

    Args:
        width: Channels of the stem; stage i has width * 2 ** (i + 1).
        blocks: Basic blocks per stage, one entry per stage; each stage halves the resolution.
        dropout: Dropout probability before the output layer.
    """

    def __init__(self, width: int = 32, blocks: tuple[int, ...] = (1, 1, 1), dropout: float = 0.3) -> None:
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn(1, width), *_conv_bn(width, width))
        stages: list[nn.Module] = []
        c_in = width
        for i, n in enumerate(blocks):
            c_out = width * 2 ** (i + 1)
            for j in range(n):
                stages.append(_BasicBlock(c_in, c_out, stride=2 if j == 0 else 1))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in, NUM_CLASSES)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch.

        Args:
            x: Preprocessed faces, (N, 1, 48, 48) float.

        Returns:
            Logits, (N, 7), in EMOTIONS order.
        """
        return self.head(self.stages(self.stem(x)))


MODELS: dict[str, Callable[..., nn.Module]] = {
    "vgg_a": VggA,
    "vgg_b": VggB,
    "mini_xception": MiniXception,
    "resnet_s": ResNetS,
}


def create_model(name: str, **kwargs: object) -> nn.Module:
    """Build an untrained model by name; kwargs go to its constructor.

    Args:
        name: A key of MODELS: "vgg_a", "vgg_b", "mini_xception" or "resnet_s".
        **kwargs: Constructor arguments of that architecture (e.g. `dropout`, `width`).

    Returns:
        The model, freshly initialised.

    Raises:
        ValueError: If `name` is not in MODELS.
        TypeError: If a keyword is not one the architecture takes.
    """
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}") from None
    return factory(**kwargs)


def count_parameters(model: nn.Module) -> int:
    """The number of parameters (every element of every weight, trainable or not).

    Args:
        model: Any torch module.

    Returns:
        The parameter count.
    """
    return sum(p.numel() for p in model.parameters())
