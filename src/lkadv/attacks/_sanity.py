"""The checks a reviewer runs on a model before trusting its robust accuracy.

:func:`probe_model` runs once per model and run, on a few clean-correct
samples, before the model's first attack cell:

- ``deterministic``: repeated forward passes give equal logits;
- ``batch_invariant``: the logits of a sample do not depend on the batch it is in;
- ``gradients``: no sample has an all-zero (or overflowing) input gradient of
  the cross-entropy or of the margin, at the run's precision;
- ``large_eps``: PGD at L-inf eps 0.5 (a ball that holds the same mid-grey
  image for every input) must bring accuracy down to chance, else the
  gradients mislead the attack;
- ``aa_randomized`` and ``aa_softmax``: AutoAttack's own checks (a randomized
  defense; probabilities returned instead of logits), run through its backend.

Each result is ``{"ok": bool, "detail": str, ...}``; the report lists them.
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from lkadv.attacks._aa_config import backend
from lkadv.attacks._losses import attack_loss
from lkadv.attacks._pgd import PGD

__all__ = ["LARGE_EPS", "probe_model"]

LARGE_EPS = 0.5
_Z = 1.959963984540054


def _rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = float(a.abs().max().clamp_min(1e-12))
    return float((a - b).abs().max()) / scale


def _deterministic(model: nn.Module, x: torch.Tensor, rtol: float) -> dict[str, Any]:
    with torch.no_grad():
        runs = [model(x) for _ in range(3)]
    diff = max(_rel_diff(runs[0], r) for r in runs[1:])
    same_pred = all(torch.equal(runs[0].argmax(1), r.argmax(1)) for r in runs[1:])
    return {
        "ok": diff <= rtol and same_pred,
        "value": diff,
        "detail": f"3 forward passes: largest logit difference {diff:.2e} of the logit scale (tolerance {rtol:g})",
    }


def _batch_invariant(model: nn.Module, x: torch.Tensor, rtol: float) -> dict[str, Any]:
    with torch.no_grad():
        whole = model(x)
        few = min(len(x), 8)  # one by one: the batch-size change most likely to switch kernels
        single = torch.cat([model(x[i : i + 1]) for i in range(few)])
        half = len(x) // 2 or 1
        halves = torch.cat([model(x[:half]), model(x[half:])]) if len(x) > 1 else whole
    diff = max(_rel_diff(whole[:few], single), _rel_diff(whole, halves))
    same_pred = torch.equal(whole[:few].argmax(1), single.argmax(1)) and torch.equal(whole.argmax(1), halves.argmax(1))
    return {
        "ok": diff <= rtol and same_pred,
        "value": diff,
        "detail": f"batch of {len(x)} vs one by one ({few}) vs halves: largest logit difference {diff:.2e} "
        f"(tolerance {rtol:g})",
    }


def _gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    zero = bad = 0
    for name in ("ce", "margin"):
        loss = attack_loss(name)
        with torch.enable_grad():
            xr = x.detach().clone().requires_grad_(True)
            grad = torch.autograd.grad(loss(model(xr), y, None).sum(), xr)[0].reshape(len(x), -1)
        finite = torch.isfinite(grad).all(1)
        bad += int((~finite).sum())
        zero += int(((grad.abs().amax(1) == 0) & finite).sum())
    return {
        "ok": zero == 0 and bad == 0,
        "zero": zero,
        "nonfinite": bad,
        "detail": f"{zero} all-zero and {bad} non-finite input gradients over {len(x)} samples x (ce, margin)",
    }


def _large_eps(model: nn.Module, score: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: int) -> dict[str, Any]:
    gen = torch.Generator(device=x.device).manual_seed(0)
    x_adv = PGD(norm="linf", steps=20, loss="margin", random_start=True)(model, x, y, LARGE_EPS, gen)
    with torch.no_grad():
        k = int((score(x_adv).argmax(1) == y).sum())
    n = len(x)
    chance = 1.0 / classes
    # Flag only when the accuracy is significantly above chance (Wilson lower bound).
    p = k / n
    low = (p + _Z * _Z / (2 * n) - _Z * math.sqrt(p * (1 - p) / n + _Z * _Z / (4 * n * n))) / (1 + _Z * _Z / n)
    return {
        "ok": low <= chance,
        "value": p,
        "detail": f"PGD-20 at L-inf eps {LARGE_EPS}: accuracy {100 * p:.1f}% on {n} samples "
        f"(chance {100 * chance:.1f}%)",
    }


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _autoattack_checks(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, dict[str, Any]]:
    module_name, version = backend()
    try:
        checks = importlib.import_module(f"{module_name}.checks")
    except ImportError:
        missing = {"ok": True, "detail": f"not run: {module_name} is not installed"}
        return {"aa_randomized": missing, "aa_softmax": dict(missing)}
    out = {}
    calls: tuple[tuple[str, Callable[[logging.Logger], Any]], ...] = (
        ("aa_randomized", lambda log: checks.check_randomized(model, x, y, bs=len(x), logger=log)),
        ("aa_softmax", lambda log: checks.check_range_output(model, x, logger=log)),
    )
    for key, call in calls:
        log = logging.getLogger(f"lkadv.sanity.{key}")
        log.propagate = False
        handler = _Collect()
        log.addHandler(handler)
        try:
            call(log)
        finally:
            log.removeHandler(handler)
        out[key] = {
            "ok": not handler.messages,
            "detail": "; ".join(handler.messages) or f"passed ({module_name} {version})",
        }
    return out


def probe_model(
    attack_model: nn.Module,
    score_model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    samples: int = 32,
    rtol: float = 1e-3,
) -> dict[str, Any]:
    """Run every model-level check on up to ``samples`` clean-correct samples of ``x``.

    Args:
        attack_model: The model at the attack precision (gradients, large eps).
        score_model: Its fp32 twin (determinism, scoring).
        x: Images.
        y: Labels.
        samples: How many clean-correct samples to use.
        rtol: Allowed logit difference, relative to the largest logit (TF32 convolutions
            on GPUs differ by ~1e-4 between batch sizes; real batch dependence is far larger).

    Returns:
        Check name -> result dict (``ok``, ``detail`` and values).
    """
    with torch.no_grad():
        logits = score_model(x)
    keep = torch.nonzero(logits.argmax(1) == y).squeeze(1)[:samples]
    if len(keep) == 0:
        return {"probe": {"ok": False, "detail": "no clean-correct sample to probe the model with"}}
    xs, ys = x[keep], y[keep]
    out: dict[str, Any] = {
        "deterministic": _deterministic(score_model, xs, rtol),
        "batch_invariant": _batch_invariant(score_model, xs, rtol),
        "gradients": _gradients(attack_model, xs, ys),
        "large_eps": _large_eps(attack_model, score_model, xs, ys, logits.shape[1]),
    }
    out.update(_autoattack_checks(score_model, xs, ys))
    return out
