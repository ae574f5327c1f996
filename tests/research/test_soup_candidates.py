"""research/soup_candidates.py: a soup is the members' mean, and recomputed batch-norm statistics are the
inputs' own."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from emolens.nn.checkpoint import save_checkpoint  # noqa: E402
from emolens.nn.models import create_model  # noqa: E402
from support import load_script  # noqa: E402


def _checkpoint(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    save_checkpoint(path, {"config": {"model": "resnet_s"}, "model": create_model("resnet_s").state_dict()})
    return path


def test_soup_is_the_mean_of_its_members_weights(tmp_path: Path) -> None:
    a, b = _checkpoint(tmp_path / "a.pt", 0), _checkpoint(tmp_path / "b.pt", 1)
    soup = load_script("soup_candidates").average_weights([a, b])
    wa, wb = (torch.load(p, weights_only=False)["model"] for p in (a, b))
    conv = next(k for k, v in wa.items() if v.ndim == 4)
    assert not torch.equal(wa[conv], wb[conv])
    assert torch.allclose(soup["model"][conv], (wa[conv] + wb[conv]) / 2)
    assert soup["config"] == {"model": "resnet_s"}


def test_recomputed_batchnorm_statistics_are_the_mean_of_the_layer_inputs(tmp_path: Path) -> None:
    state = torch.load(_checkpoint(tmp_path / "a.pt", 0), weights_only=False)
    # Two equal batches: batch norm's cumulative average weighs batches, not faces, alike.
    inputs = torch.randn(512, 1, 48, 48) * 0.5 + 0.3
    fresh = load_script("soup_candidates").recompute_batchnorm(state, inputs, batch_size=256)

    model = create_model("resnet_s").eval()
    model.load_state_dict(state["model"])
    first_bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen = []
    first_bn.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    with torch.no_grad():
        model(inputs)
    name = next(n for n, m in model.named_modules() if m is first_bn)
    channel_mean = seen[0].mean(dim=(0, 2, 3))
    assert torch.allclose(fresh["model"][f"{name}.running_mean"], channel_mean, atol=1e-4)
    assert not torch.allclose(state["model"][f"{name}.running_mean"], channel_mean, atol=1e-2)
