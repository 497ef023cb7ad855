"""Per-norm geometry of perturbations: size, projection, ascent direction, random start."""

from __future__ import annotations

import torch

__all__ = ["ascent_direction", "perturbation_norm", "project", "random_init", "uniform"]

_TINY = 1e-12


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def _bcast(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def _pixel_mask(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample flat mask of changed pixels: any channel of a spatial position differs."""
    changed = delta != 0
    if changed.ndim == 4:  # NCHW: a pixel is a spatial position, all its channels together
        changed = changed.any(1)
    return _flat(changed)


def perturbation_norm(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-sample norm of a batch of perturbations (float64 for exact comparisons).

    ``l0`` counts changed pixels: spatial positions where any channel differs.
    """
    if norm == "l0":
        return _pixel_mask(delta).sum(1).double()
    flat = _flat(delta).double()
    if norm == "linf":
        return flat.abs().amax(1)
    if norm == "l2":
        return flat.norm(p=2, dim=1)
    if norm == "l1":
        return flat.abs().sum(1)
    raise ValueError(f"unknown norm {norm!r}")


def project(delta: torch.Tensor, eps: float | torch.Tensor, norm: str) -> torch.Tensor:
    """Project perturbations onto the ``norm`` ball of radius ``eps`` (scalar or per sample)."""
    if norm == "linf":
        if isinstance(eps, torch.Tensor):
            e = _bcast(eps, delta)
            return torch.maximum(torch.minimum(delta, e), -e)
        return delta.clamp(-eps, eps)
    if norm == "l2":
        size = _bcast(_flat(delta).norm(p=2, dim=1), delta)
        radius: torch.Tensor | float = _bcast(eps, delta) if isinstance(eps, torch.Tensor) else eps
        return delta * torch.clamp(radius / (size + _TINY), max=1.0)
    if norm == "l1":
        return _project_l1(delta, eps)
    if norm == "l0":
        return _project_l0(delta, eps)
    raise ValueError(f"unknown norm {norm!r}")


def _project_l0(delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    # Euclidean projection onto "at most k changed pixels": keep the k pixels of largest
    # energy (summed over channels), zero the rest.
    n = delta.shape[0]
    energy = delta.pow(2).sum(1) if delta.ndim == 4 else delta.pow(2)
    flat = _flat(energy)
    k = (eps if isinstance(eps, torch.Tensor) else torch.full((n,), float(eps), device=delta.device)).floor().long()
    k = k.clamp(0, flat.shape[1])
    order = flat.argsort(1, descending=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(flat.shape[1], device=delta.device).expand(n, -1).contiguous())
    keep = (ranks < k[:, None]).reshape(energy.shape)
    if delta.ndim == 4:
        keep = keep[:, None]
    return delta * keep


def _project_l1(delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    # Euclidean projection onto the L1 ball (Duchi et al. 2008), batched by sorting.
    flat = _flat(delta)
    n, d = flat.shape
    e = (eps if isinstance(eps, torch.Tensor) else torch.full((n,), float(eps), device=flat.device)).to(flat.dtype)
    a = flat.abs()
    inside = a.sum(1) <= e
    mu, _ = a.sort(1, descending=True)
    cums = mu.cumsum(1)
    ks = torch.arange(1, d + 1, device=flat.device, dtype=flat.dtype)
    cond = mu - (cums - e[:, None]) / ks > 0
    rho = cond.to(flat.dtype).mul(ks).argmax(1)
    theta = (cums.gather(1, rho[:, None]).squeeze(1) - e) / (rho + 1).to(flat.dtype)
    out = flat.sign() * (a - theta[:, None]).clamp_min(0)
    out = torch.where(inside[:, None], flat, out)
    return out.reshape(delta.shape)


def ascent_direction(grad: torch.Tensor, norm: str) -> torch.Tensor:
    """The steepest-ascent unit step for a gradient under ``norm``.

    L-inf: the sign; L2: the normalized gradient; L1: the sign of the largest
    gradient coordinate(s) per sample (a coordinate step, as in SLIDE's top-1 case).
    """
    if norm == "linf":
        return grad.sign()
    if norm == "l2":
        return grad / (_bcast(_flat(grad).norm(p=2, dim=1), grad) + _TINY)
    if norm == "l1":
        flat = _flat(grad)
        top = flat.abs().argmax(1)
        out = torch.zeros_like(flat)
        out.scatter_(1, top[:, None], flat.gather(1, top[:, None]).sign())
        return out.reshape(grad.shape)
    raise ValueError(f"unknown norm {norm!r}")


def uniform(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """U[0, 1) draws from ``generator`` (on its own device), moved to ``device``."""
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def random_init(
    shape: tuple[int, ...], eps: float, norm: str, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """A random starting perturbation inside the ball.

    L-inf: uniform in the cube. L2 and L1: a random direction scaled to a
    uniform fraction of ``eps`` (the usual PGD random start).
    """
    if norm == "linf":
        return (uniform(shape, generator, device) * 2 - 1) * eps
    u = uniform((2, *shape), generator, device)
    # Box-Muller from the same stream keeps everything on one generator.
    gauss = torch.sqrt(-2 * torch.log(u[0].clamp_min(1e-12))) * torch.cos(2 * torch.pi * u[1])
    if norm == "l1":
        gauss = gauss.sign() * (-torch.log(u[0].clamp_min(1e-12)))  # Laplace: uniform on the L1 sphere
    direction = gauss / (_bcast(perturbation_norm(gauss, norm).float(), gauss) + _TINY)
    radius = uniform((shape[0],), generator, device) * eps
    return direction * _bcast(radius, gauss)
