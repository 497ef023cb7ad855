"""The core's check of every attack result: inside the eps ball and inside [0, 1]."""

from __future__ import annotations

import torch

from lkadv.engine._norms import perturbation_norm
from lkadv.errors import AttackContractError

__all__ = ["ABS_SLACK", "REL_SLACK", "check_adversarial"]

# float32 rounding of x + delta can overshoot eps by a few ulps of x (<= 1).
ABS_SLACK = 1e-6
REL_SLACK = 1e-5


def check_adversarial(x: torch.Tensor, x_adv: torch.Tensor, eps: float, norm: str, attack: str) -> None:
    """Fail loudly if an attack broke its contract; never clip silently.

    Args:
        x: Clean images.
        x_adv: The attack's output.
        eps: Radius in pixel units.
        norm: ``"linf"``, ``"l2"`` or ``"l1"``.
        attack: Attack name for the message.

    Raises:
        AttackContractError: On a shape/dtype change, non-finite values, values
            outside [0, 1] or a perturbation larger than ``eps`` (plus float slack).
    """
    if x_adv.shape != x.shape:
        raise AttackContractError(f"attack {attack!r} changed the batch shape {list(x.shape)} -> {list(x_adv.shape)}")
    if not x_adv.dtype.is_floating_point:
        raise AttackContractError(f"attack {attack!r} returned dtype {x_adv.dtype}, expected a float tensor")
    if not bool(torch.isfinite(x_adv).all()):
        raise AttackContractError(f"attack {attack!r} returned NaN or infinite pixels")
    lo, hi = float(x_adv.min()), float(x_adv.max())
    if lo < 0.0 or hi > 1.0:
        raise AttackContractError(
            f"attack {attack!r} returned pixels outside [0, 1] (min {lo:.6g}, max {hi:.6g}); "
            "an attack must clip to the image range itself"
        )
    size = perturbation_norm(x_adv.to(x.device).double() - x.double(), norm)
    limit = eps * (1 + REL_SLACK) + ABS_SLACK
    over = size > limit
    if bool(over.any()):
        worst = float(size.max())
        raise AttackContractError(
            f"attack {attack!r} exceeded its {norm} budget on {int(over.sum())} of {len(size)} samples: "
            f"largest ||x_adv - x|| = {worst:.8g} > eps = {eps:.8g}"
        )
