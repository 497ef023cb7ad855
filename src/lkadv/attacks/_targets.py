"""Target classes of targeted attacks: a given class, a random wrong class, or the least likely one."""

from __future__ import annotations

import torch
from torch import nn

from lkadv.attacks._params import TARGET_MODES
from lkadv.errors import ConfigError

__all__ = ["check_target_mode", "choose_targets"]


def check_target_mode(mode: str, target: int | None) -> None:
    """Check that a target mode and a target class fit together.

    Raises:
        ConfigError: On an unknown mode, or ``given`` without a target class.
    """
    if mode not in TARGET_MODES:
        raise ConfigError(f"targeted must be one of {list(TARGET_MODES)}, got {mode!r}")
    if mode == "given" and target is None:
        raise ConfigError("targeted=given needs a target class: set target=K")
    if mode != "given" and target is not None:
        raise ConfigError(f"target={target} is only used with targeted=given (got targeted={mode})")


@torch.no_grad()
def choose_targets(
    mode: str,
    target: int | None,
    classifier: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor | None:
    """The target class of every sample, or None for an untargeted attack.

    ``given``: the same class for all (samples of that class cannot be moved to it
    and are left as they are). ``random``: uniform over the classes other than the
    label, drawn from ``generator``. ``least-likely``: the class with the lowest
    clean logit.

    Raises:
        ConfigError: If a given target is not a class of the model.
    """
    if mode == "none":
        return None
    logits = classifier(x)
    k = logits.shape[1]
    if mode == "given":
        assert target is not None
        if not 0 <= target < k:
            raise ConfigError(f"target class {target} does not exist: the model has classes 0..{k - 1}")
        return torch.full_like(y, target)
    if mode == "least-likely":
        return logits.argmin(1)
    draw = torch.randint(0, k - 1, (len(y),), generator=generator, device=generator.device).to(y.device)
    return draw + (draw >= y).long()
