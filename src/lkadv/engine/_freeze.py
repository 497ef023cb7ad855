"""Input-only gradients: a model's parameters stop requiring grad while it is attacked.

Attacks differentiate with respect to the input only. With parameters still
requiring grad, autograd records and keeps what weight gradients would need
(every layer's saved input, the graph nodes of each parameter), although
``torch.autograd.grad(loss, x)`` never computes them: measured 6-14% of a PGD
step on the mini zoo (``bench/pgd_throughput.py``). torchattacks leaves the
flags alone; lkadv turns them off for the duration of an attack and restores
them exactly afterwards, also when the attack raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["input_gradients_only"]


@contextmanager
def input_gradients_only(model: object) -> Iterator[None]:
    """Within the block, no parameter of ``model`` requires grad (restored on exit).

    Nested use is safe: each level restores what it found. Objects that are not
    ``nn.Module`` (plain callables) are left as they are.
    """
    if not isinstance(model, nn.Module):
        yield
        return
    flagged = [p for p in model.parameters() if p.requires_grad]
    for p in flagged:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in flagged:
            p.requires_grad_(True)
