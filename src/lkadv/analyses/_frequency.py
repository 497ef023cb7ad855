"""Band-limited noise: Gaussian noise confined to a square annulus of normalized frequency."""

from __future__ import annotations

import torch

__all__ = ["band_mask", "band_noise"]


def _freqs(n: int, device: torch.device | str | None) -> torch.Tensor:
    # Normalized frequency in units of pi: fftfreq's cycles/sample in [-0.5, 0.5) times 2.
    return torch.fft.fftfreq(n, dtype=torch.float64, device=device).abs() * 2


def band_mask(
    height: int, width: int, centre: float, half_width: float, device: torch.device | str | None = None
) -> torch.Tensor:
    """Frequencies whose Chebyshev radius ``max(|fy|, |fx|)`` lies in ``[centre - hw, centre + hw]``.

    Frequencies are in units of pi (1 is Nyquist), laid out as ``torch.fft.fft2``'s output.
    """
    radius = torch.maximum(_freqs(height, device)[:, None], _freqs(width, device)[None, :])
    return (radius >= centre - half_width) & (radius <= centre + half_width)


def band_noise(
    shape: tuple[int, ...],
    centre: float,
    half_width: float,
    rms: float,
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Noise whose spectrum lies inside the band, scaled to ``rms`` per image.

    White Gaussian noise is transformed, every frequency outside the band is
    zeroed (the kept coefficients keep their random phase), and the real inverse
    is scaled to the given root mean square over each image. The band mask is
    symmetric under negation, so the filtered noise is real.

    Args:
        shape: ``(N, C, H, W)``.
        centre: Band centre ``f`` in units of pi.
        half_width: Half width ``s`` in units of pi.
        rms: Root mean square of each image's noise, in [0, 1] pixel units.
        generator: Seeded generator (on ``device``).
        device: Where to draw and transform (default: CPU).

    Returns:
        float32 noise of ``shape`` (zero when the band holds no frequency).
    """
    _, _, h, w = shape
    white = torch.randn(shape, generator=generator, dtype=torch.float64, device=device)
    spectrum = torch.fft.fft2(white) * band_mask(h, w, centre, half_width, device)
    noise = torch.fft.ifft2(spectrum).real
    scale = noise.pow(2).mean((1, 2, 3), keepdim=True).sqrt()
    return (noise * (rms / scale.clamp_min(1e-12)) * (scale > 1e-12)).float()
