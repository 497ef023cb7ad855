"""Per-sample attack objectives, always computed in float32 from the logits.

Every loss here is one to *ascend*. Untargeted losses grow as the true class
loses; targeted ones grow as the target class wins. The margin and DLR losses
are differences of logits, so they stay informative where a saturated softmax
makes the cross-entropy gradient vanish.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from lkadv.attacks._params import LOSS_NAMES
from lkadv.errors import ConfigError

__all__ = ["attack_loss", "check_classes", "margin"]
_TINY = 1e-12


def _other_max(logits: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    return logits.scatter(1, cls[:, None], float("-inf")).amax(1)


def margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """True-class logit minus the best other logit (negative: misclassified)."""
    logits = logits.float()
    return logits.gather(1, y[:, None]).squeeze(1) - _other_max(logits, y)


def _ce(logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    if t is None:
        return F.cross_entropy(logits, y, reduction="none")
    return -F.cross_entropy(logits, t, reduction="none")


def _cw(logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    # Carlini-Wagner margin: untargeted, best wrong logit minus the true one;
    # targeted, the target logit minus the best other one.
    if t is None:
        return -margin(logits, y)
    return margin(logits, t)


def _dlr(logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    # Difference of logits ratio (Croce & Hein 2020): scale-invariant, so a network
    # with huge logits gets the same step as one with small logits.
    check_classes("dlr", logits.shape[1], t is not None)
    ordered, _ = logits.sort(1)
    true = logits.gather(1, y[:, None]).squeeze(1)
    if t is None:
        return -(true - _other_max(logits, y)) / (ordered[:, -1] - ordered[:, -3] + _TINY)
    target = logits.gather(1, t[:, None]).squeeze(1)
    return -(true - target) / (ordered[:, -1] - 0.5 * (ordered[:, -3] + ordered[:, -4]) + _TINY)


_FNS: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]] = {
    "ce": _ce,
    "margin": _cw,
    "dlr": _dlr,
}


def check_classes(loss: str, num_classes: int, targeted: bool) -> None:
    """Fail clearly when a loss needs more classes than the model has.

    Raises:
        ConfigError: DLR needs 3 classes (4 when targeted).
    """
    need = (4 if targeted else 3) if loss == "dlr" else 2
    if num_classes < need:
        kind = "targeted DLR" if targeted and loss == "dlr" else loss
        raise ConfigError(f"the {kind} loss needs at least {need} classes; the model has {num_classes}")


def attack_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]:
    """The per-sample objective ``f(logits, y, target_or_None)`` named ``name``.

    Raises:
        ConfigError: On an unknown name.
    """
    if name not in _FNS:
        raise ConfigError(f"unknown attack loss {name!r}; choose one of {list(LOSS_NAMES)}")
    fn = _FNS[name]

    def loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        return fn(logits.float(), y, target)

    return loss
