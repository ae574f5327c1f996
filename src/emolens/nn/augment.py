"""Batched augmentation on tensors, on whatever device the batch lives on (CPU or GPU).

Input and output: (N, 1, 48, 48) float tensors already made by `emolens.preprocess`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from emolens.nn.config import AugmentConfig as AugmentConfig  # re-exported: defined without torch


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random rotation, shift, zoom, horizontal flip, blur, brightness/contrast and erasing, per sample.

    Args:
        x: the batch, (N, 1, H, W) float, standardised by `emolens.preprocess`.
        cfg: the strength of each distortion; a 0 turns blur or erasing off.
        generator: the random source, for repeatable draws; None uses torch's global one.

    Returns:
        A new tensor of x's shape, on x's device; x is left as it is.
    """
    n = x.shape[0]
    dev = x.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, device=dev, generator=generator) * (hi - lo) + lo

    angle = uniform(-cfg.rotation_deg, cfg.rotation_deg) * (math.pi / 180)
    scale = uniform(1 - cfg.zoom_frac, 1 + cfg.zoom_frac)
    flip = torch.where(torch.rand(n, device=dev, generator=generator) < cfg.hflip_p, -1.0, 1.0)
    # affine_grid maps output coordinates to input ones in [-1, 1]: dividing by scale zooms in.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = uniform(-2 * cfg.shift_frac, 2 * cfg.shift_frac)
    theta[:, 1, 2] = uniform(-2 * cfg.shift_frac, 2 * cfg.shift_frac)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    if cfg.blur_p > 0 and cfg.blur_sigma_max_px > 0:
        sigma = uniform(0.0, cfg.blur_sigma_max_px)
        sigma = torch.where(torch.rand(n, device=dev, generator=generator) < cfg.blur_p, sigma, 0.0)
        out = gaussian_blur(out, sigma)

    gain = uniform(1 - cfg.contrast, 1 + cfg.contrast).view(n, 1, 1, 1)
    bias = uniform(-cfg.brightness, cfg.brightness).view(n, 1, 1, 1)
    out = out * gain + bias

    if cfg.erase_p > 0:
        h, w = out.shape[-2:]
        eh = (uniform(0.1, 0.5) * h).long().view(n, 1, 1)
        ew = (uniform(0.1, 0.5) * w).long().view(n, 1, 1)
        y0 = (uniform(0, 1) * (h - eh.view(n))).long().view(n, 1, 1)
        x0 = (uniform(0, 1) * (w - ew.view(n))).long().view(n, 1, 1)
        ys = torch.arange(h, device=dev).view(1, h, 1)
        xs = torch.arange(w, device=dev).view(1, 1, w)
        box = (ys >= y0) & (ys < y0 + eh) & (xs >= x0) & (xs < x0 + ew)
        active = (torch.rand(n, device=dev, generator=generator) < cfg.erase_p).view(n, 1, 1)
        out = out.masked_fill((box & active).unsqueeze(1), 0.0)
    return out


def gaussian_blur(x: torch.Tensor, sigma_px: torch.Tensor, radius_px: int = 4) -> torch.Tensor:
    """Blur each image of (N, 1, H, W) with its own Gaussian sigma; sigma 0 leaves the image as it is.

    Args:
        x: the batch, (N, C, H, W).
        sigma_px: one sigma per image, (N,), in pixels.
        radius_px: the kernel reaches this far each way (9 taps at 4: 2.7 sigma at AugmentConfig's largest, 1.5).

    Returns:
        The blurred batch, x's shape; borders are blurred with replicated edge pixels.
    """
    n, c, h, w = x.shape
    offsets = torch.arange(-radius_px, radius_px + 1, device=x.device, dtype=x.dtype)
    s = sigma_px.to(x.dtype).clamp_min(1e-3).view(n, 1)
    kernel = torch.exp(-0.5 * (offsets.view(1, -1) / s) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # sigma ~0 gives a one-hot kernel: no change
    k = 2 * radius_px + 1
    # One group per image: a separable convolution, rows then columns, with replicated borders.
    flat = x.reshape(1, n * c, h, w)
    kx = kernel.repeat_interleave(c, dim=0).view(n * c, 1, 1, k)
    ky = kernel.repeat_interleave(c, dim=0).view(n * c, 1, k, 1)
    flat = F.conv2d(F.pad(flat, (radius_px, radius_px, 0, 0), mode="replicate"), kx, groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius_px, radius_px), mode="replicate"), ky, groups=n * c)
    return flat.reshape(n, c, h, w)


def mixup(x: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend each face with its partner `x[perm]`, and the targets (N, 7) in the same proportion `lam`.

    Args:
        x: the batch of faces, (N, 1, H, W).
        y: their target distributions, (N, 7).
        perm: a permutation of range(N): face i is blended with face perm[i].
        lam: the weight of each face's own image and target, in [0, 1].

    Returns:
        The blended faces and the blended targets.
    """
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


def cutmix(
    x: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, lam: float, center_frac: tuple[float, float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste one rectangle of the partner faces `x[perm]` into every face (Yun et al. 2019).

    The rectangle covers about 1 - `lam` of the image, centred at `center_frac` (y, x in [0, 1]) and clipped
    at the borders; the targets mix in proportion to the area actually pasted.

    Args:
        x: the batch of faces, (N, 1, H, W).
        y: their target distributions, (N, 7).
        perm: a permutation of range(N): face i receives a rectangle of face perm[i].
        lam: about the fraction of each face left as it is, in [0, 1].
        center_frac: the rectangle's centre, (y, x) as fractions of height and width.

    Returns:
        The pasted faces (a copy; x is left as it is) and the mixed targets.
    """
    h, w = x.shape[-2:]
    cut = math.sqrt(1.0 - lam)
    cy, cx = round(center_frac[0] * h), round(center_frac[1] * w)
    half_h, half_w = round(h * cut / 2), round(w * cut / 2)
    y0, y1 = max(cy - half_h, 0), min(cy + half_h, h)
    x0, x1 = max(cx - half_w, 0), min(cx + half_w, w)
    out = x.clone()
    out[..., y0:y1, x0:x1] = x[perm][..., y0:y1, x0:x1]
    kept = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    return out, kept * y + (1 - kept) * y[perm]
