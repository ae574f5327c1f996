"""Training augmentation: blur behaves like a Gaussian blur and sigma 0 changes nothing; mixup and cutmix mix
faces and targets in the same proportion."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from emolens.nn.augment import AugmentConfig, augment, cutmix, gaussian_blur, mixup  # noqa: E402
from emolens.nn.train import TrainConfig  # noqa: E402


def _images(n: int = 4) -> torch.Tensor:
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.normal(size=(n, 1, 48, 48)).astype(np.float32))


def test_blur_with_sigma_zero_is_identity():
    x = _images()
    out = gaussian_blur(x, torch.zeros(4))
    assert torch.allclose(out, x, atol=1e-6)


def test_blur_matches_opencv_gaussian_blur_per_image():
    x = _images(3)
    sigmas = torch.tensor([0.6, 1.0, 1.5])
    out = gaussian_blur(x, sigmas).numpy()
    for i, s in enumerate(sigmas.tolist()):
        ref = cv2.GaussianBlur(x[i, 0].numpy(), (9, 9), s, borderType=cv2.BORDER_REPLICATE)
        assert np.abs(out[i, 0] - ref).max() < 1e-4
    # Blur removes high frequencies: each image's variance drops, the more the larger its sigma.
    var = out.reshape(3, -1).var(axis=1)
    assert var[0] > var[1] > var[2]


def test_augment_blurs_only_when_asked():
    x = _images(64)
    sharp = AugmentConfig(
        rotation_deg=0, shift_frac=0, zoom_frac=0, hflip_p=0, brightness=0, contrast=0, erase_p=0, blur_p=0.0
    )
    blurred = AugmentConfig(**{**sharp.__dict__, "blur_p": 1.0, "blur_sigma_max_px": 1.5})
    g = torch.Generator().manual_seed(0)
    assert torch.allclose(augment(x, sharp, g), x, atol=1e-5)
    assert augment(x, blurred, g).var() < 0.8 * x.var()


def test_old_run_configs_resume_without_blur():
    old = TrainConfig.from_dict({"augment": {"rotation_deg": 10.0, "erase_p": 0.25}})
    assert old.augment.blur_p == 0.0
    assert TrainConfig.from_dict({}).augment.blur_p == AugmentConfig().blur_p > 0


def test_distillation_loss_is_zero_when_the_student_agrees_and_grows_with_disagreement():
    from emolens.nn.train import distillation_loss

    teacher_logits = torch.tensor([[2.0, 0.5, -1.0, 0.0, 0.3, -0.2, 1.0]])
    soft = torch.softmax(teacher_logits / 2.0, dim=1)
    assert distillation_loss(teacher_logits, soft, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    near = distillation_loss(teacher_logits + torch.tensor([[0.5, 0, 0, 0, 0, 0, 0]]), soft, 2.0).item()
    far = distillation_loss(-teacher_logits, soft, 2.0).item()
    assert 0 < near < far


def _two_faces() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A black face labelled angry and a white face labelled happy, each other's partner."""
    x = torch.stack([torch.zeros(1, 48, 48), torch.ones(1, 48, 48)])
    y = torch.eye(7)[[0, 3]]
    return x, y, torch.tensor([1, 0])


def test_mixup_blends_faces_and_targets_alike():
    x, y, perm = _two_faces()
    mixed, target = mixup(x, y, perm, 0.75)
    assert torch.allclose(mixed[0], torch.full((1, 48, 48), 0.25))
    assert torch.allclose(target[0], 0.75 * torch.eye(7)[0] + 0.25 * torch.eye(7)[3])


def test_cutmix_pastes_a_rectangle_of_the_partner_and_weights_targets_by_its_area():
    x, y, perm = _two_faces()
    mixed, target = cutmix(x, y, perm, 0.75, (0.5, 0.5))  # a centred 24x24 square: a quarter of the face
    pasted = mixed[0, 0]
    assert pasted.sum().item() == 24 * 24 and pasted[12:36, 12:36].min().item() == 1.0
    assert torch.allclose(target[0], 0.75 * torch.eye(7)[0] + 0.25 * torch.eye(7)[3])
    assert torch.equal(x[0], torch.zeros(1, 48, 48))  # the input batch is left as it was


def test_cutmix_at_a_corner_clips_the_rectangle_and_counts_only_what_was_pasted():
    x, y, perm = _two_faces()
    mixed, target = cutmix(x, y, perm, 0.75, (0.0, 0.0))  # only the square's bottom-right quarter lies inside
    assert mixed[0, 0].sum().item() == 12 * 12 and mixed[0, 0, :12, :12].min().item() == 1.0
    share = 12 * 12 / (48 * 48)
    assert torch.allclose(target[0], (1 - share) * torch.eye(7)[0] + share * torch.eye(7)[3])
    assert torch.allclose(target.sum(dim=1), torch.ones(2))
